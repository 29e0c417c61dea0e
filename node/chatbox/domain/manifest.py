"""The batch manifest: what one anchoring transaction commits to, stored on IPFS.

The manifest lists every leaf of the batch's Merkle tree and, per leaf, the channel and
heads it stands for with its nonce. Entries of private channels are sealed with the
box's vault key, so IPFS and the chain show only that a private channel changed, and
the box signs the whole. Anyone can check that the leaves give the anchored root; a
box restoring from backup opens its own sealed entries to find its private channels.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from chatbox.domain import canonical, merkle
from chatbox.domain.identity import Identity, verify_signature
from chatbox.domain.sealing import open_sealed, seal
from chatbox.errors import InvalidInput

VERSION = 1
KIND = "chatbox-anchor-batch"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
_SIGNING_CONTEXT = b"chatbox-manifest-v1\n"
_SEAL_CONTEXT = b"chatbox-manifest-entry-v1"


@dataclass(frozen=True)
class BatchEntry:
    """One channel's state in a batch."""

    channel_id: str
    name: str
    visibility: str
    heads: list[str]
    nonce: bytes

    @property
    def leaf(self) -> bytes:
        return merkle.leaf_hash(self.nonce, self.channel_id, self.heads)

    def statement(self) -> dict[str, Any]:
        return {
            "ch": self.channel_id,
            "name": self.name,
            "visibility": self.visibility,
            "heads": sorted(self.heads),
            "nonce": self.nonce.hex(),
        }


@dataclass(frozen=True)
class Manifest:
    box: str  # the box's public key
    created: int
    leaves: list[bytes]
    open_entries: dict[int, BatchEntry]  # leaf index -> entry readable without a key
    sealed_entries: dict[int, bytes]  # leaf index -> entry sealed with the box's vault key

    @property
    def root(self) -> bytes:
        return merkle.root(self.leaves)


def build(identity: Identity, vault_key: bytes, created: int, entries: list[BatchEntry]) -> bytes:
    """The signed manifest bytes for ``entries``, in their order."""
    records: list[dict[str, Any]] = []
    for index, entry in enumerate(entries):
        if entry.visibility == "private":
            sealed = seal(vault_key, canonical.dumps(entry.statement()), _SEAL_CONTEXT)
            records.append({"i": index, "sealed": base64.b64encode(sealed).decode("ascii")})
        else:
            records.append({"i": index, **entry.statement()})
    unsigned = {
        "v": VERSION,
        "kind": KIND,
        "box": identity.public_key,
        "created": created,
        "leaves": [entry.leaf.hex() for entry in entries],
        "entries": records,
    }
    signature = identity.sign(_SIGNING_CONTEXT + canonical.dumps(unsigned))
    return canonical.dumps({**unsigned, "sig": signature.hex()})


def parse(raw: bytes) -> Manifest:
    """Check shape, signature and every open entry's leaf; raise InvalidInput if wrong."""
    if len(raw) > MAX_MANIFEST_BYTES:
        raise InvalidInput("the batch manifest is too large")
    try:
        fields = canonical.loads(raw)
        if not canonical.is_int(fields["v"]) or fields["v"] != VERSION or fields["kind"] != KIND:
            raise InvalidInput("not a chatbox batch manifest")
        unsigned = {key: value for key, value in fields.items() if key != "sig"}
        signed = verify_signature(
            fields["box"],
            bytes.fromhex(fields["sig"]),
            _SIGNING_CONTEXT + canonical.dumps(unsigned),
        )
        leaves = [bytes.fromhex(leaf) for leaf in fields["leaves"]]
        open_entries: dict[int, BatchEntry] = {}
        sealed_entries: dict[int, bytes] = {}
        for record in fields["entries"]:
            index = record["i"]
            if not isinstance(index, int) or not 0 <= index < len(leaves):
                raise InvalidInput("a manifest entry points outside the leaves")
            if "sealed" in record:
                sealed_entries[index] = base64.b64decode(record["sealed"], validate=True)
            else:
                open_entries[index] = _entry(record)
        manifest = Manifest(fields["box"], fields["created"], leaves, open_entries, sealed_entries)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput("the batch manifest is malformed", detail=str(exc)[:200]) from exc
    if not signed:
        raise InvalidInput("the batch manifest's signature is not the box's")
    for index, entry in open_entries.items():
        if entry.leaf != leaves[index]:
            raise InvalidInput("a manifest entry does not match its leaf", detail=entry.channel_id)
    return manifest


def open_entry(manifest: Manifest, index: int, vault_key: bytes) -> BatchEntry:
    """A sealed entry opened with the box's vault key, checked against its leaf."""
    entry = _entry(
        canonical.loads(open_sealed(vault_key, manifest.sealed_entries[index], _SEAL_CONTEXT))
    )
    if entry.leaf != manifest.leaves[index]:
        raise InvalidInput("a sealed manifest entry does not match its leaf")
    return entry


def _entry(record: dict[str, Any]) -> BatchEntry:
    heads = record["heads"]
    if not isinstance(heads, list) or not all(isinstance(cid, str) for cid in heads):
        raise InvalidInput("manifest heads must be a list of CIDs")
    return BatchEntry(
        channel_id=str(record["ch"]),
        name=str(record["name"]),
        visibility=str(record["visibility"]),
        heads=heads,
        nonce=bytes.fromhex(record["nonce"]),
    )
