"""The CAR archive layout, byte for byte, against the published specs."""

from __future__ import annotations

import hashlib

from chatbox.adapters.car import _head, _varint, batch_archive
from chatbox.domain.cid import cid_bytes


def test_varint_and_cbor_heads_use_the_shortest_form() -> None:
    assert _varint(0) == b"\x00"
    assert _varint(127) == b"\x7f"
    assert _varint(128) == b"\x80\x01"
    assert _varint(300) == b"\xac\x02"
    assert _head(4, 23) == b"\x97"
    assert _head(4, 24) == b"\x98\x18"
    assert _head(2, 300) == b"\x59\x01\x2c"


def test_archive_holds_header_root_and_every_block_in_order() -> None:
    blocks = [b"first", b"second" * 100]
    root, archive = batch_archive(blocks)
    header_length = archive[0]
    header = archive[1 : 1 + header_length]
    assert header.startswith(b"\xa2\x65roots\x81\xd8\x2a\x58\x25\x00")
    assert header.endswith(b"\x67version\x01")
    rest = archive[1 + header_length :]
    for block in blocks:
        assert cid_bytes(block) + block in rest
    # The root's CID is the sha2-256 of its DAG-CBOR bytes, linked from the header.
    length, used = _read_varint(rest)
    root_cid = rest[used : used + 36]
    assert root_cid[:2] == b"\x01\x71"
    root_bytes = rest[used + 36 : used + length]
    assert root_cid[4:] == hashlib.sha256(root_bytes).digest()
    assert root.startswith("bafyrei")


def _read_varint(data: bytes) -> tuple[int, int]:
    value = shift = 0
    for index, byte in enumerate(data):
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, index + 1
    raise AssertionError("unterminated varint")
