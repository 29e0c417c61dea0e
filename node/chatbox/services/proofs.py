"""Anchoring proofs: how a message is bound to a root on chain, and checking one.

A proof says: this message is an ancestor of these heads; their salted leaf is at this
place in the batch's Merkle tree; the tree's root and the manifest's CID are in an
``Anchored`` event of this registry in this block. ``Verifier`` checks every link itself,
from IPFS and the chain alone, so it trusts nothing a box's database says.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from chatbox.domain import envelope, merkle
from chatbox.domain import manifest as manifests
from chatbox.errors import ChatboxError, InvalidInput, NotFound, NotVerified
from chatbox.ports import AnchorEvent, BatchBook, ChainReader, ContentStore
from chatbox.services.accounts import Member
from chatbox.services.messages import MessageService

PROOF_VERSION = 1
FETCH_TIMEOUT = 30.0
FETCHES_IN_FLIGHT = 20


@dataclass(frozen=True)
class AnchorContext:
    """Where this box anchors: put into every proof it gives."""

    chain_id: int
    registry: str
    box_address: str


class ProofService:
    def __init__(
        self, batches: BatchBook, messages: MessageService, context: AnchorContext | None
    ) -> None:
        self._batches = batches
        self._messages = messages
        self._context = context

    async def proof(self, member: Member, cid: str) -> dict[str, Any]:
        """The proof of a message ``member`` can read; NotFound until it is anchored."""
        message = await self._messages.find(member, cid)
        batch_id = await self._batches.covering_batch(message.cid)
        batch = None if batch_id is None else await self._batches.batch(batch_id)
        if self._context is None or batch is None or batch.tx.state != "confirmed":
            raise NotFound("not anchored yet", detail="the next anchoring batch will cover it")
        index = next(i for i, leaf in enumerate(batch.leaves) if leaf[0] == message.channel_id)
        leaves = [merkle.leaf_hash(nonce, ch, heads) for ch, heads, nonce in batch.leaves]
        _, heads, nonce = batch.leaves[index]
        return {
            "v": PROOF_VERSION,
            "message": message.cid,
            "channel": message.channel_id,
            "heads": sorted(heads),
            "nonce": nonce.hex(),
            "leaf_index": index,
            "path": [
                {"sibling": step.sibling.hex(), "side": step.side}
                for step in merkle.path(leaves, index)
            ],
            "root": batch.root.hex(),
            "manifest": batch.manifest_cid,
            "chain_id": self._context.chain_id,
            "registry": self._context.registry,
            "box": self._context.box_address,
            "block": batch.tx.block_number,
            "tx": batch.tx.tx_hash,
        }


@dataclass(frozen=True)
class Verified:
    cid: str
    channel: str
    block: int
    tx: str
    root: str
    box: str


@dataclass(frozen=True)
class _Claim:
    """What a proof (given, or read from a public manifest) asserts about one channel."""

    channel: str
    heads: list[str]
    nonce: bytes
    leaf_index: int
    steps: list[merkle.Step]
    root: bytes
    manifest_cid: str
    block: int | None


class Verifier:
    """Checks proofs against IPFS and one registry, never against a box's database."""

    def __init__(self, content: ContentStore, chain: ChainReader) -> None:
        self._content = content
        self._chain = chain
        self._events: list[AnchorEvent] | None = None
        self._histories: dict[tuple[str, ...], set[str]] = {}

    async def verify(self, cid: str, proof: dict[str, Any] | None = None) -> Verified:
        """Check that ``cid`` is anchored; raise NotVerified saying which link broke."""
        message = await self._message(cid)
        if not await self._chain.has_registry():
            raise NotVerified(f"there is no registry contract at {self._chain.registry}")
        claims = (
            [_claim_from_proof(proof)]
            if proof is not None
            else await self._public_claims(message.channel)
        )
        if not claims:
            raise NotVerified(
                "no anchored batch of this registry names the message's channel",
                detail="private channels need the proof a member downloads (--proof)",
            )
        failure: NotVerified | None = None
        for claim in claims:
            try:
                return await self._check(message, claim)
            except NotVerified as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def _message(self, cid: str) -> envelope.Envelope:
        try:
            raw = await self._content.get_block(cid, timeout=FETCH_TIMEOUT)
            return envelope.parse(raw, expected_cid=cid)
        except InvalidInput as exc:
            raise NotVerified(
                f"the message itself is not valid: {exc.message}", detail=exc.detail
            ) from exc

    async def _check(self, message: envelope.Envelope, claim: _Claim) -> Verified:
        if claim.channel != message.channel:
            raise NotVerified("the proof is for another channel than the message's")
        event = await self._anchor_event(claim)
        manifest = await self._manifest(claim.manifest_cid)
        if manifest.root != event.root:
            raise NotVerified("the manifest's leaves do not give the anchored root")
        leaf = merkle.leaf_hash(claim.nonce, claim.channel, claim.heads)
        if (
            not 0 <= claim.leaf_index < len(manifest.leaves)
            or manifest.leaves[claim.leaf_index] != leaf
        ):
            raise NotVerified("the channel's heads are not the leaf the batch anchored")
        if merkle.fold(leaf, claim.steps) != event.root:
            raise NotVerified("the Merkle path does not lead to the anchored root")
        if message.cid not in await self._history(claim.channel, claim.heads):
            raise NotVerified("the message is not in the anchored history of its channel")
        return Verified(
            message.cid,
            message.channel,
            event.block_number,
            event.tx_hash,
            event.root.hex(),
            event.box,
        )

    async def _anchor_event(self, claim: _Claim) -> AnchorEvent:
        for event in await self._all_events():
            same = event.root == claim.root and event.manifest_cid == claim.manifest_cid
            if same and claim.block in (None, event.block_number):
                return event
        raise NotVerified(
            "no Anchored event of the registry has this root and manifest",
            detail=f"registry {self._chain.registry}",
        )

    async def _all_events(self) -> list[AnchorEvent]:
        if self._events is None:
            self._events = await self._chain.anchors()
        return self._events

    async def _manifest(self, cid: str) -> manifests.Manifest:
        try:
            raw = await self._content.get_block(cid, timeout=FETCH_TIMEOUT)
            return manifests.parse(raw)
        except InvalidInput as exc:
            raise NotVerified(f"the batch manifest is not valid: {exc.message}") from exc

    async def _public_claims(self, channel: str) -> list[_Claim]:
        """Claims read from public manifests that list ``channel``, newest first."""
        claims = []
        for event in reversed(await self._all_events()):
            try:
                manifest = await self._manifest(event.manifest_cid)
            except ChatboxError:
                continue
            for index, entry in manifest.open_entries.items():
                if entry.channel_id == channel:
                    claims.append(
                        _Claim(
                            channel,
                            entry.heads,
                            entry.nonce,
                            index,
                            merkle.path(manifest.leaves, index),
                            event.root,
                            event.manifest_cid,
                            event.block_number,
                        )
                    )
        return claims

    async def _history(self, channel: str, heads: list[str]) -> set[str]:
        """Every CID reachable from ``heads`` through IPFS; one walk serves many messages."""
        key = tuple(sorted(heads))
        if key in self._histories:
            return self._histories[key]
        seen: set[str] = set()
        wanted = set(heads)
        gate = asyncio.Semaphore(FETCHES_IN_FLIGHT)

        async def fetch(cid: str) -> envelope.Envelope:
            async with gate:
                raw = await self._content.get_block(cid, timeout=FETCH_TIMEOUT)
            try:
                return envelope.parse(raw, expected_cid=cid)
            except InvalidInput as exc:
                raise NotVerified(
                    "the anchored history holds an invalid entry", detail=cid
                ) from exc

        while wanted:
            seen |= wanted
            parents: set[str] = set()
            for entry in await asyncio.gather(*(fetch(cid) for cid in sorted(wanted))):
                if entry.channel != channel:
                    raise NotVerified("the anchored history links an entry of another channel")
                parents.update(entry.prev)
            wanted = parents - seen
        self._histories[key] = seen
        return seen


def _claim_from_proof(proof: dict[str, Any]) -> _Claim:
    try:
        if proof["v"] != PROOF_VERSION:
            raise NotVerified("unknown proof version")
        return _Claim(
            channel=str(proof["channel"]),
            heads=[str(cid) for cid in proof["heads"]],
            nonce=bytes.fromhex(proof["nonce"]),
            leaf_index=int(proof["leaf_index"]),
            steps=[
                merkle.Step(
                    bytes.fromhex(step["sibling"]), "left" if step["side"] == "left" else "right"
                )
                for step in proof["path"]
            ],
            root=bytes.fromhex(proof["root"]),
            manifest_cid=str(proof["manifest"]),
            block=None if proof.get("block") is None else int(proof["block"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise NotVerified("the proof is malformed", detail=str(exc)[:200]) from exc
