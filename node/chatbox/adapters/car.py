"""CAR v1 archives, to hand IPFS a whole batch of blocks in one ``dag/import`` call.

Spec: https://ipld.io/specs/transport/car/carv1/ — a varint-prefixed DAG-CBOR header
``{"roots": [CID], "version": 1}``, then each block as varint(len) || CID || bytes.
The one root is a DAG-CBOR node ``{"entries": [CID, ...]}`` linking every block of the
batch, so pinning the root recursively pins them all with one pin instead of one each.
DAG-CBOR (https://ipld.io/specs/codecs/dag-cbor/spec/): links are CBOR tag 42 over the
binary CID behind a 0x00 byte; map keys sort by length, then bytewise.
"""

from __future__ import annotations

from chatbox.domain.cid import DAG_CBOR_CODEC, cid_bytes, cid_text

_CBOR_BYTES, _CBOR_TEXT, _CBOR_ARRAY, _CBOR_MAP = 2, 3, 4, 5
_CID_TAG = b"\xd8\x2a"  # tag 42


def batch_archive(blocks: list[bytes]) -> tuple[str, bytes]:
    """(root CID, CAR bytes) for raw ``blocks`` under one DAG-CBOR root linking them."""
    links = [cid_bytes(block) for block in blocks]
    root = _map_head(1) + _text("entries") + _head(_CBOR_ARRAY, len(links))
    root += b"".join(_link(link) for link in links)
    root_cid = cid_bytes(root, DAG_CBOR_CODEC)
    header = _map_head(2) + _text("roots") + _head(_CBOR_ARRAY, 1) + _link(root_cid)
    header += _text("version") + b"\x01"
    sections = [_varint(len(header)), header, _section(root_cid, root)]
    sections += [_section(link, block) for link, block in zip(links, blocks, strict=True)]
    return cid_text(root_cid), b"".join(sections)


def _section(cid: bytes, data: bytes) -> bytes:
    return _varint(len(cid) + len(data)) + cid + data


def _link(cid: bytes) -> bytes:
    return _CID_TAG + _head(_CBOR_BYTES, len(cid) + 1) + b"\x00" + cid


def _text(value: str) -> bytes:
    encoded = value.encode("utf-8")
    return _head(_CBOR_TEXT, len(encoded)) + encoded


def _map_head(size: int) -> bytes:
    return _head(_CBOR_MAP, size)


def _head(major: int, length: int) -> bytes:
    """A CBOR item head (RFC 8949 section 3) in its shortest form, as DAG-CBOR requires."""
    if length < 24:
        return bytes([major << 5 | length])
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if length < 1 << (8 * size):
            return bytes([major << 5 | extra]) + length.to_bytes(size, "big")
    raise ValueError("CBOR length out of range")


def _varint(value: int) -> bytes:
    """Unsigned LEB128, the multiformats varint."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
