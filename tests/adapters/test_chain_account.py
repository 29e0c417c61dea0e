"""The box's chain account: its address is read from the keystore without eth-account."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbox.adapters import chain_account
from chatbox.errors import ConfigError

VAULT_KEY = bytes(range(32))


def test_address_from_the_keystore_is_the_accounts_checksummed_address(tmp_path: Path) -> None:
    for number in range(5):
        path = tmp_path / f"account-{number}.json"
        account = chain_account.load_or_create(path, VAULT_KEY)
        assert chain_account.address_or_create(path, VAULT_KEY) == account.address


def test_address_of_a_new_box_makes_its_account(tmp_path: Path) -> None:
    path = tmp_path / chain_account.FILE_NAME
    address = chain_account.address_or_create(path, VAULT_KEY)
    assert path.stat().st_mode & 0o777 == 0o600
    assert chain_account.load_or_create(path, VAULT_KEY).address == address


def test_a_damaged_keystore_names_the_setting(tmp_path: Path) -> None:
    path = tmp_path / chain_account.FILE_NAME
    path.write_text('{"address": "not hex"}')
    with pytest.raises(ConfigError) as caught:
        chain_account.address_or_create(path, VAULT_KEY)
    assert caught.value.key == "data_dir" and "damaged" in caught.value.message
