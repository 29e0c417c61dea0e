"""The Merkle tree an anchoring batch commits to, and proofs of one leaf in it.

keccak-256 throughout, the hash the chain itself uses. Leaves and inner nodes carry
different one-byte tags so a leaf can never pass for an inner node. Each leaf is salted
with a random nonce (as OpenTimestamps does): the sibling hashes a proof reveals say
nothing about the other channels of the batch. An odd node at the end of a level is
carried up unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from Crypto.Hash import keccak

from chatbox.domain import canonical
from chatbox.errors import InvalidInput

NONCE_LENGTH = 32
_LEAF_TAG = b"\x00"
_NODE_TAG = b"\x01"

Side = Literal["left", "right"]


@dataclass(frozen=True)
class Step:
    """One step up the tree: the sibling hash and the side it sits on."""

    sibling: bytes
    side: Side


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def leaf_hash(nonce: bytes, channel_id: str, heads: list[str]) -> bytes:
    """The leaf of one channel: its id and sorted heads, salted with ``nonce``."""
    if len(nonce) != NONCE_LENGTH:
        raise InvalidInput(f"a leaf nonce is {NONCE_LENGTH} bytes")
    statement = canonical.dumps({"ch": channel_id, "heads": sorted(heads)})
    return keccak256(_LEAF_TAG + nonce + statement)


def root(leaves: list[bytes]) -> bytes:
    if not leaves:
        raise InvalidInput("a Merkle tree needs at least one leaf")
    level = list(leaves)
    while len(level) > 1:
        level = _parent_level(level)
    return level[0]


def path(leaves: list[bytes], index: int) -> list[Step]:
    """The steps from leaf ``index`` to the root."""
    if not 0 <= index < len(leaves):
        raise InvalidInput("no such leaf in the batch")
    steps: list[Step] = []
    level = list(leaves)
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            steps.append(Step(level[sibling], "left" if sibling < index else "right"))
        level = _parent_level(level)
        index //= 2
    return steps


def fold(leaf: bytes, steps: list[Step]) -> bytes:
    """The root that ``leaf`` and its ``steps`` lead to."""
    node = leaf
    for step in steps:
        pair = step.sibling + node if step.side == "left" else node + step.sibling
        node = keccak256(_NODE_TAG + pair)
    return node


def _parent_level(level: list[bytes]) -> list[bytes]:
    parents = [keccak256(_NODE_TAG + level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        parents.append(level[-1])
    return parents
