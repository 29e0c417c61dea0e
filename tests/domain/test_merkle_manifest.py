"""The batch's Merkle tree and its signed manifest."""

from __future__ import annotations

import json
import os

import pytest

from chatbox.domain import manifest, merkle
from chatbox.domain.identity import Identity
from chatbox.domain.sealing import new_key
from chatbox.errors import Forbidden, InvalidInput


def leaves(count: int) -> list[bytes]:
    return [merkle.leaf_hash(os.urandom(32), f"{i:064x}", [f"cid-{i}"]) for i in range(count)]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100])
def test_every_leaf_folds_to_the_root_and_no_other_leaf_does(count: int) -> None:
    tree = leaves(count)
    root = merkle.root(tree)
    for index, leaf in enumerate(tree):
        steps = merkle.path(tree, index)
        assert merkle.fold(leaf, steps) == root
        assert len(steps) <= max(1, (count - 1).bit_length())
        if count > 1:
            assert merkle.fold(tree[(index + 1) % count], steps) != root


def test_a_leaf_depends_on_nonce_channel_and_every_head() -> None:
    nonce = os.urandom(32)
    base = merkle.leaf_hash(nonce, "a" * 64, ["x", "y"])
    assert base == merkle.leaf_hash(nonce, "a" * 64, ["y", "x"])  # heads are a set
    assert base != merkle.leaf_hash(os.urandom(32), "a" * 64, ["x", "y"])
    assert base != merkle.leaf_hash(nonce, "b" * 64, ["x", "y"])
    assert base != merkle.leaf_hash(nonce, "a" * 64, ["x"])
    with pytest.raises(InvalidInput):
        merkle.leaf_hash(b"short", "a" * 64, [])
    with pytest.raises(InvalidInput):
        merkle.root([])


# Long and with a character base64 never uses, so it cannot turn up in sealed bytes by chance.
PRIVATE_HEAD = "head-of-the-private-channel"


def entries() -> list[manifest.BatchEntry]:
    return [
        manifest.BatchEntry("a" * 64, "general", "public", ["h1", "h2"], os.urandom(32)),
        manifest.BatchEntry("b" * 64, "staff", "private", [PRIVATE_HEAD], os.urandom(32)),
    ]


def test_manifest_hides_private_entries_and_parses_back() -> None:
    box, vault = Identity.generate(), new_key()
    batch = entries()
    raw = manifest.build(box, vault, 1_700_000_000, batch)
    assert b"staff" not in raw and PRIVATE_HEAD.encode() not in raw
    parsed = manifest.parse(raw)
    assert parsed.box == box.public_key
    assert parsed.root == merkle.root([entry.leaf for entry in batch])
    assert parsed.open_entries == {0: batch[0]}
    assert manifest.open_entry(parsed, 1, vault) == batch[1]
    with pytest.raises(Forbidden):
        manifest.open_entry(parsed, 1, new_key())


def test_a_changed_manifest_is_refused() -> None:
    raw = manifest.build(Identity.generate(), new_key(), 1, entries())
    fields = json.loads(raw)
    fields["entries"][0]["heads"] = ["other"]
    with pytest.raises(InvalidInput, match="signature"):
        manifest.parse(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode())
    with pytest.raises(InvalidInput, match="malformed"):
        manifest.parse(b'{"v":1,"kind":"chatbox-anchor-batch"}')
    with pytest.raises(InvalidInput):
        manifest.parse(b"not json")
