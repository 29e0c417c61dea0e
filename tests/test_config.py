from __future__ import annotations

from pathlib import Path

import pytest

from chatbox import config
from chatbox.errors import ConfigError


def test_defaults_without_file_or_variables(tmp_path: Path) -> None:
    settings = config.load(tmp_path / "absent.toml", environ={})
    assert settings == config.Settings()
    assert settings.box_name == "chatbox"
    assert settings.ipfs_api == "http://127.0.0.1:5001"


def test_variables_override_the_file(tmp_path: Path) -> None:
    path = tmp_path / "chatbox.toml"
    path.write_text('box_name = "library"\nhttp_port = 8080\nupload_limit = 1000\n')
    settings = config.load(path, environ={"CHATBOX_HTTP_PORT": "9090"})
    assert (settings.box_name, settings.http_port, settings.upload_limit) == ("library", 9090, 1000)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("http_port", "70000"),
        ("http_port", "eighty"),
        ("box_name", "no spaces"),
        ("ipfs_api", "http://192.168.1.10:5001"),
        ("ipfs_api", "ftp://127.0.0.1"),
        ("registration", "anyone"),
        ("upload_limit", "0"),
        ("registry_address", "0x12"),
        ("chain_rpc_url", "localhost:8545"),
        ("light_client_execution_rpc", "https://rpc.example.net/v2/key with space"),
        ("light_client_consensus_rpc", "https://beacon.example.net/'quoted'"),
    ],
)
def test_invalid_setting_names_its_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.load(None, environ={f"CHATBOX_{key.upper()}": value})
    assert caught.value.key == key
    assert key in caught.value.message and "\n" not in caught.value.message


def test_unknown_key_and_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "chatbox.toml"
    path.write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError, match="colour"):
        config.load(path, environ={})
    path.write_text("box_name = \n")
    with pytest.raises(ConfigError, match="cannot read"):
        config.load(path, environ={})
    path.write_text("http_port = true\n")
    with pytest.raises(ConfigError, match="http_port"):
        config.load(path, environ={})
