"""Identities: an Ed25519 key for signing and an X25519 key for sealing.

Users and boxes hold the same kind of identity. Private halves leave memory only
locked with a password (see ``sealing.lock_with_password``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from chatbox.errors import InvalidInput

KEY_HEX_LENGTH = 64
_PRIVATE_LENGTH = 64  # 32-byte Ed25519 seed + 32-byte X25519 scalar


@dataclass(frozen=True)
class Identity:
    """A signing and a sealing key pair."""

    signing: Ed25519PrivateKey
    sealing: X25519PrivateKey

    @classmethod
    def generate(cls) -> Identity:
        return cls(Ed25519PrivateKey.generate(), X25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, data: bytes) -> Identity:
        if len(data) != _PRIVATE_LENGTH:
            raise InvalidInput("identity key material has the wrong length")
        return cls(
            Ed25519PrivateKey.from_private_bytes(data[:32]),
            X25519PrivateKey.from_private_bytes(data[32:]),
        )

    def private_bytes(self) -> bytes:
        """The raw private halves; lock them before they touch a disk."""
        return self.signing.private_bytes_raw() + self.sealing.private_bytes_raw()

    @property
    def public_key(self) -> str:
        """The signing public key in hex: the ``author`` of every envelope."""
        return self.signing.public_key().public_bytes_raw().hex()

    @property
    def sealing_public_key(self) -> str:
        return self.sealing.public_key().public_bytes_raw().hex()

    def sign(self, message: bytes) -> bytes:
        return self.signing.sign(message)


def verify_signature(public_key_hex: str, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is ``public_key_hex``'s Ed25519 signature of ``message``."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(signature, message)
    except (ValueError, InvalidSignature):
        return False
    return True


# Every message shown carries its author's fingerprint, and a channel has few authors.
@functools.lru_cache(maxsize=4096)
def fingerprint(public_key_hex: str) -> str:
    """A short, readable digest of a public key that people compare out loud.

    Twenty base32 characters (100 bits of SHA-256) in groups of four.
    """
    digest = hashlib.sha256(bytes.fromhex(public_key_hex)).digest()
    text = base64.b32encode(digest).decode("ascii")[:20]
    return "-".join(text[i : i + 4] for i in range(0, 20, 4))
