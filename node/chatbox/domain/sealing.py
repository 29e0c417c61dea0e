"""Symmetric sealing with AES-256-GCM: messages, streamed files and password-locked secrets.

* ``seal``/``open_sealed``: one message, ``nonce || ciphertext+tag``, random 96-bit nonce.
* ``StreamSealer``/``StreamOpener``: files of any size in 64 KiB chunks with the STREAM
  construction (Hoang, Reyhanitabar, Rogaway, Vizar, "Online Authenticated-Encryption and
  its Nonce-Reuse Misuse-Resistance", 2015): nonce = 7-byte random prefix || 32-bit chunk
  counter || last-chunk flag, so reordering, dropping or truncating chunks fails to open.
  Neither side ever holds more than one chunk.
* ``lock_with_password``/``unlock_with_password``: scrypt (RFC 7914) derives the key.
"""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from chatbox.errors import Forbidden, InvalidInput

KEY_LENGTH = 32
NONCE_LENGTH = 12
TAG_LENGTH = 16
STREAM_CHUNK = 64 * 1024
_STREAM_MAGIC = b"CBS1"
_STREAM_PREFIX_LENGTH = 7
STREAM_HEADER_LENGTH = len(_STREAM_MAGIC) + _STREAM_PREFIX_LENGTH
_PASSWORD_MAGIC = b"CBP1"
_SALT_LENGTH = 16
# scrypt cost 2**15 with r=8 uses 32 MiB: memory-hard yet safe on a 512 MB Pi Zero 2 W.
DEFAULT_PASSWORD_COST = 15


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return os.urandom(KEY_LENGTH)


def seal(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Encrypt and authenticate ``plaintext``; ``aad`` is bound but not hidden."""
    nonce = os.urandom(NONCE_LENGTH)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, sealed: bytes, aad: bytes = b"") -> bytes:
    """Reverse ``seal``; raise Forbidden when the key or the bytes are wrong."""
    if len(sealed) < NONCE_LENGTH + TAG_LENGTH:
        raise Forbidden("sealed data is truncated")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_LENGTH], sealed[NONCE_LENGTH:], aad)
    except InvalidTag as exc:
        raise Forbidden("cannot open sealed data: wrong key or altered bytes") from exc


def sealed_stream_size(plaintext_size: int) -> int:
    """How many bytes ``StreamSealer`` produces for ``plaintext_size`` bytes of input."""
    chunks = max(1, -(-plaintext_size // STREAM_CHUNK))
    return STREAM_HEADER_LENGTH + plaintext_size + chunks * TAG_LENGTH


class StreamSealer:
    """Seal a byte stream chunk by chunk: feed pieces, then ``finish()`` exactly once."""

    def __init__(self, key: bytes, aad: bytes = b"") -> None:
        self._aead = AESGCM(key)
        self._aad = aad
        self._prefix = os.urandom(_STREAM_PREFIX_LENGTH)
        self._counter = 0
        self._buffer = bytearray()
        self._started = False

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        out = bytearray(self._header())
        # Seal a chunk only once more data follows it, so the last one gets the flag.
        while len(self._buffer) > STREAM_CHUNK:
            out += self._seal_chunk(bytes(self._buffer[:STREAM_CHUNK]), last=False)
            del self._buffer[:STREAM_CHUNK]
        return bytes(out)

    def finish(self) -> bytes:
        out = self._header() + self._seal_chunk(bytes(self._buffer), last=True)
        self._buffer.clear()
        return out

    def _header(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        return _STREAM_MAGIC + self._prefix

    def _seal_chunk(self, chunk: bytes, *, last: bool) -> bytes:
        nonce = _stream_nonce(self._prefix, self._counter, last)
        self._counter += 1
        return self._aead.encrypt(nonce, chunk, self._aad)


class StreamOpener:
    """Open what ``StreamSealer`` produced; ``finish()`` proves nothing was cut off."""

    def __init__(self, key: bytes, aad: bytes = b"") -> None:
        self._aead = AESGCM(key)
        self._aad = aad
        self._prefix: bytes | None = None
        self._counter = 0
        self._buffer = bytearray()

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        if self._prefix is None:
            if len(self._buffer) < STREAM_HEADER_LENGTH:
                return b""
            self._read_header()
        out = bytearray()
        # Hold back one sealed chunk: only end-of-stream tells which chunk is last.
        while len(self._buffer) > STREAM_CHUNK + TAG_LENGTH:
            out += self._open_chunk(bytes(self._buffer[: STREAM_CHUNK + TAG_LENGTH]), False)
            del self._buffer[: STREAM_CHUNK + TAG_LENGTH]
        return bytes(out)

    def finish(self) -> bytes:
        if self._prefix is None:
            raise Forbidden("sealed file is truncated")
        plaintext = self._open_chunk(bytes(self._buffer), True)
        self._buffer.clear()
        return plaintext

    def _read_header(self) -> None:
        if self._buffer[: len(_STREAM_MAGIC)] != _STREAM_MAGIC:
            raise InvalidInput("not a sealed chatbox file")
        self._prefix = bytes(self._buffer[len(_STREAM_MAGIC) : STREAM_HEADER_LENGTH])
        del self._buffer[:STREAM_HEADER_LENGTH]

    def _open_chunk(self, chunk: bytes, last: bool) -> bytes:
        assert self._prefix is not None
        nonce = _stream_nonce(self._prefix, self._counter, last)
        self._counter += 1
        try:
            return self._aead.decrypt(nonce, chunk, self._aad)
        except InvalidTag as exc:
            raise Forbidden("cannot open sealed file: wrong key, altered or truncated") from exc


def lock_with_password(secret: bytes, password: str, cost: int = DEFAULT_PASSWORD_COST) -> bytes:
    """Encrypt ``secret`` under a key derived from ``password`` with scrypt (n = 2**cost)."""
    salt = os.urandom(_SALT_LENGTH)
    key = _password_key(password, salt, cost)
    header = _PASSWORD_MAGIC + bytes([cost]) + salt
    return header + seal(key, secret, header)


def unlock_with_password(locked: bytes, password: str) -> bytes:
    """Reverse ``lock_with_password``; raise Forbidden on a wrong password."""
    header_length = len(_PASSWORD_MAGIC) + 1 + _SALT_LENGTH
    if locked[: len(_PASSWORD_MAGIC)] != _PASSWORD_MAGIC or len(locked) < header_length:
        raise InvalidInput("not a password-locked chatbox secret")
    cost = locked[len(_PASSWORD_MAGIC)]
    salt = locked[len(_PASSWORD_MAGIC) + 1 : header_length]
    key = _password_key(password, salt, cost)
    try:
        return open_sealed(key, locked[header_length:], locked[:header_length])
    except Forbidden as exc:
        raise Forbidden("wrong password") from exc


def _password_key(password: str, salt: bytes, cost: int) -> bytes:
    if not 10 <= cost <= 20:
        raise InvalidInput("password cost out of range")
    kdf = Scrypt(salt=salt, length=KEY_LENGTH, n=2**cost, r=8, p=1)
    return kdf.derive(password.encode("utf-8"))


def _stream_nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", counter, 1 if last else 0)
