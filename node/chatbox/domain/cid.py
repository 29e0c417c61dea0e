"""CIDv1 with the raw codec and a sha2-256 multihash, computed from bytes alone.

Every envelope is stored as one raw block, so any receiver can recompute its CID and
refuse bytes that do not match the CID they were announced under.
Spec: https://github.com/multiformats/cid (CIDv1 = <version><codec><multihash>),
multicodec table: raw = 0x55, sha2-256 = 0x12 (32-byte digest); multibase 'b' is
lower-case RFC 4648 base32 without padding, Kubo's default for CIDv1.
"""

from __future__ import annotations

import base64
import hashlib

from chatbox.errors import InvalidInput

_CID_V1 = 0x01
RAW_CODEC = 0x55
DAG_CBOR_CODEC = 0x71
_SHA2_256 = 0x12
_DIGEST_LEN = 32
_PREFIX = bytes([_CID_V1, RAW_CODEC, _SHA2_256, _DIGEST_LEN])
# 1 multibase char + base32 of 36 bytes (58 chars without padding).
CID_TEXT_LENGTH = 59


def raw_cid(data: bytes) -> str:
    """The CIDv1 (raw, sha2-256) of ``data`` in base32, as Kubo prints it."""
    return cid_text(cid_bytes(data))


def cid_bytes(data: bytes, codec: int = RAW_CODEC) -> bytes:
    """The binary CIDv1 (sha2-256) of ``data`` under ``codec`` (a one-byte multicodec)."""
    return bytes([_CID_V1, codec, _SHA2_256, _DIGEST_LEN]) + hashlib.sha256(data).digest()


def cid_text(binary: bytes) -> str:
    """A binary CIDv1 in multibase base32."""
    return "b" + _base32(binary)


def check_raw_cid(text: str) -> str:
    """Return ``text`` if it is a CIDv1 raw sha2-256 in base32, else raise InvalidInput."""
    # Lower case only: one CID, one spelling, so a parent named in prev matches its entry.
    if not isinstance(text, str) or len(text) != CID_TEXT_LENGTH or text != text.lower():
        raise InvalidInput("not a chatbox entry CID", detail=str(text)[:80])
    if not text.startswith("b"):
        raise InvalidInput("not a chatbox entry CID", detail=str(text)[:80])
    try:
        decoded = base64.b32decode(text[1:].upper() + "======")
    except ValueError as exc:
        raise InvalidInput("not a chatbox entry CID", detail=text) from exc
    if decoded[:4] != _PREFIX or len(decoded) != 4 + _DIGEST_LEN:
        raise InvalidInput("not a chatbox entry CID", detail=text)
    return text


def is_cid_of(cid: str, data: bytes) -> bool:
    """True when ``data`` hashes to ``cid``."""
    return raw_cid(data) == cid


def _base32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").lower().rstrip("=")
