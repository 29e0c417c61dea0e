"""The box's own secrets on disk: its identity and the vault key.

The vault key seals the other secrets the box keeps in SQLite (private channel keys), so
a copied database alone reveals none of them. The box must start unattended after a
power cut, so this file itself is protected by file permissions (0600, owned by the
service user), not by a passphrase; backups are passphrase-encrypted instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chatbox.adapters.atomic import write_file
from chatbox.domain.identity import Identity
from chatbox.domain.sealing import KEY_LENGTH, new_key
from chatbox.errors import ConfigError

FILE_NAME = "box.key"  # in the data directory
_MAGIC = b"CBK1"
_IDENTITY_LENGTH = 64


@dataclass(frozen=True)
class BoxSecrets:
    identity: Identity
    vault_key: bytes


def load_or_create(path: Path) -> BoxSecrets:
    """Read the box secrets, creating them (mode 0600, written atomically) on first start."""
    if path.exists():
        return _read(path)
    secrets = BoxSecrets(Identity.generate(), new_key())
    write(path, secrets)
    return secrets


def write(path: Path, secrets: BoxSecrets) -> None:
    """Write the box secrets atomically, readable by the service user only."""
    write_file(path, _MAGIC + secrets.identity.private_bytes() + secrets.vault_key, 0o600)


def _read(path: Path) -> BoxSecrets:
    data = path.read_bytes()
    if len(data) != len(_MAGIC) + _IDENTITY_LENGTH + KEY_LENGTH or not data.startswith(_MAGIC):
        raise ConfigError(
            "data_dir", f"the box key file {path} is damaged; restore it from a backup"
        )
    body = data[len(_MAGIC) :]
    return BoxSecrets(Identity.from_private_bytes(body[:_IDENTITY_LENGTH]), body[_IDENTITY_LENGTH:])
