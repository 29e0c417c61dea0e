"""The box's Ethereum account: a secp256k1 key in an encrypted keystore file.

The keystore is the standard scrypt-protected JSON (Web3 Secret Storage) that other
wallets read. Its password is derived from the box's vault key, so the key is never on
disk in the clear and the box still starts unattended after a power cut.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import TYPE_CHECKING

from chatbox.adapters.atomic import write_file
from chatbox.domain.merkle import keccak256
from chatbox.errors import ConfigError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

# eth-account is imported where a key is made or opened, not at start: with its
# dependencies it costs about 18 MB of a 512 MB Pi, and a box anchoring on no chain needs
# only its address, which the keystore holds in the clear.

# Cheaper than eth-account's default (2**18) so a Pi Zero opens it in about a second.
_SCRYPT_N = 2**15


FILE_NAME = "chain-account.json"  # in the data directory


def keystore_password(vault_key: bytes) -> str:
    return hmac.new(vault_key, b"chatbox-chain-keystore-v1", hashlib.sha256).hexdigest()


def load_or_create(path: Path, vault_key: bytes) -> LocalAccount:
    """Open the keystore at ``path``, generating the account on first start."""
    from eth_account import Account

    password = keystore_password(vault_key)
    if path.exists():
        return open_keystore(path.read_text("utf-8"), password, path)
    account: LocalAccount = Account.create()
    write_keystore(path, account.key, vault_key)
    return account


def address_or_create(path: Path, vault_key: bytes) -> str:
    """The account's address (EIP-55), read from the keystore without opening the key."""
    if not path.exists():
        return str(load_or_create(path, vault_key).address)
    try:
        raw = str(json.loads(path.read_text("utf-8"))["address"]).lower().removeprefix("0x")
        bytes.fromhex(raw)
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            "data_dir", f"the chain keystore {path} is damaged; restore it from a backup"
        ) from exc
    digest = keccak256(raw.encode()).hex()
    return "0x" + "".join(
        char.upper() if int(nibble, 16) >= 8 else char
        for char, nibble in zip(raw, digest, strict=False)
    )


def write_keystore(path: Path, private_key: bytes, vault_key: bytes) -> None:
    from eth_account import Account

    keystore = Account.encrypt(
        private_key, keystore_password(vault_key), kdf="scrypt", iterations=_SCRYPT_N
    )
    write_file(path, json.dumps(keystore).encode(), 0o600)


def open_keystore(text: str, password: str, path: Path) -> LocalAccount:
    from eth_account import Account

    try:
        key = Account.decrypt(json.loads(text), password)
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            "data_dir", f"the chain keystore {path} cannot be opened; restore it from a backup"
        ) from exc
    account: LocalAccount = Account.from_key(key)
    return account
