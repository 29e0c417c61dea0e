"""URLs shown by the box keep their host, never their keys."""

from __future__ import annotations

import pytest

from chatbox.domain.redaction import shown_url, without_url_secrets


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("http://127.0.0.1:8545/", "http://127.0.0.1:8545"),
        ("https://eth-mainnet.example.net/v2/KEY123", "https://eth-mainnet.example.net/…"),
        ("https://rpc.example.org/?apikey=KEY123", "https://rpc.example.org/…"),
        ("https://user:KEY123@rpc.example.org:8443", "https://rpc.example.org:8443"),
        ("http://[::1]:8545/KEY123", "http://[::1]:8545/…"),
        ("http://host:notaport/KEY123", "(a URL that cannot be shown)"),
    ],
)
def test_shown_url_keeps_scheme_host_and_port(url: str, shown: str) -> None:
    assert shown_url(url) == shown


def test_every_url_in_a_message_loses_its_secrets() -> None:
    message = (
        "401, message='Unauthorized', url='https://eth.example.net/v2/KEY123'"
        " then https://u:KEY456@b.example.org/x"
    )
    cleaned = without_url_secrets(message)
    assert "KEY123" not in cleaned and "KEY456" not in cleaned
    assert "url='https://eth.example.net/…'" in cleaned and "https://b.example.org/…" in cleaned
    assert cleaned.startswith("401, message='Unauthorized'")
