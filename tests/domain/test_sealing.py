from __future__ import annotations

import os

import pytest

from chatbox.domain import sealing
from chatbox.errors import Forbidden, InvalidInput

CHUNK = sealing.STREAM_CHUNK


def test_seal_round_trip_binds_the_associated_data() -> None:
    key = sealing.new_key()
    sealed = sealing.seal(key, b"secret", b"channel-1")
    assert b"secret" not in sealed
    assert sealing.open_sealed(key, sealed, b"channel-1") == b"secret"
    with pytest.raises(Forbidden):
        sealing.open_sealed(key, sealed, b"channel-2")
    with pytest.raises(Forbidden):
        sealing.open_sealed(sealing.new_key(), sealed, b"channel-1")


def _seal_stream(key: bytes, data: bytes, piece: int) -> bytes:
    sealer = sealing.StreamSealer(key, b"aad")
    out = b"".join(sealer.feed(data[i : i + piece]) for i in range(0, len(data), piece))
    return out + sealer.finish()


def _open_stream(key: bytes, sealed: bytes, piece: int) -> bytes:
    opener = sealing.StreamOpener(key, b"aad")
    out = b"".join(opener.feed(sealed[i : i + piece]) for i in range(0, len(sealed), piece))
    return out + opener.finish()


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17])
@pytest.mark.parametrize("piece", [1000, CHUNK, 5 * CHUNK])
def test_stream_round_trip_at_chunk_boundaries(size: int, piece: int) -> None:
    key, data = sealing.new_key(), os.urandom(size)
    sealed = _seal_stream(key, data, piece)
    assert len(sealed) == sealing.sealed_stream_size(size)
    assert _open_stream(key, sealed, 4096) == data


def test_truncated_stream_fails_to_open() -> None:
    key, data = sealing.new_key(), os.urandom(3 * CHUNK)
    sealed = _seal_stream(key, data, CHUNK)
    cut = sealing.STREAM_HEADER_LENGTH + 2 * (CHUNK + sealing.TAG_LENGTH)
    with pytest.raises(Forbidden):
        _open_stream(key, sealed[:cut], 4096)


def test_reordered_chunks_fail_to_open() -> None:
    key, data = sealing.new_key(), os.urandom(3 * CHUNK)
    sealed = _seal_stream(key, data, CHUNK)
    header, size = sealing.STREAM_HEADER_LENGTH, CHUNK + sealing.TAG_LENGTH
    chunks = [sealed[header + i * size : header + (i + 1) * size] for i in range(3)]
    swapped = sealed[:header] + chunks[1] + chunks[0] + chunks[2] + sealed[header + 3 * size :]
    with pytest.raises(Forbidden):
        _open_stream(key, swapped, 4096)


def test_stream_refuses_foreign_bytes() -> None:
    with pytest.raises(InvalidInput):
        sealing.StreamOpener(sealing.new_key()).feed(b"not a sealed file at all")


def test_password_lock_round_trip_and_wrong_password() -> None:
    locked = sealing.lock_with_password(b"k" * 64, "hunter22", cost=10)
    assert b"k" * 8 not in locked
    assert sealing.unlock_with_password(locked, "hunter22") == b"k" * 64
    with pytest.raises(Forbidden, match="wrong password"):
        sealing.unlock_with_password(locked, "hunter23")
