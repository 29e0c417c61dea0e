"""The anchoring worker: batch the heads of changed channels and anchor them on chain.

At every interval (or when asked) it records one batch: a Merkle tree over a salted leaf
per changed channel, and a manifest signed by the box that explains the leaves. The
manifest goes to IPFS first, then one registry transaction carries the root and the
manifest's CID. While the chain is unreachable, messages keep flowing and the batch
waits; the changes made meanwhile go into the next batch, so there is one transaction
per interval whatever the load.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from chatbox.domain import manifest as manifests
from chatbox.domain import merkle
from chatbox.domain.cid import raw_cid
from chatbox.domain.identity import Identity
from chatbox.errors import ChatboxError
from chatbox.ports import BatchBook, Chain, ContentStore, PlannedBatch, TxQueue
from chatbox.services.chain_sender import ChainSender
from chatbox.services.channels import ChannelService
from chatbox.services.directory import RegistryDirectory

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0  # how often a sent transaction is followed
DIRECTORY_REFRESH = 60.0
MAX_BACKOFF = 300.0


@dataclass(frozen=True)
class AnchorTiming:
    interval: float
    poll: float = POLL_SECONDS


class Anchorer:
    def __init__(
        self,
        identity: Identity,
        vault_key: bytes,
        chain: Chain,
        expected_chain_id: int,
        txs: TxQueue,
        batches: BatchBook,
        content: ContentStore,
        channels: ChannelService,
        sender: ChainSender,
        directory: RegistryDirectory,
        timing: AnchorTiming,
    ) -> None:
        self._identity = identity
        self._vault_key = vault_key
        self._chain = chain
        self._expected_chain_id = expected_chain_id
        self._txs = txs
        self._batches = batches
        self._content = content
        self._channels = channels
        self._sender = sender
        self._directory = directory
        self._timing = timing
        self._wake = asyncio.Event()
        self._due = True
        self._chain_checked = False
        self.last_error: str | None = None
        self.last_batch_at: float | None = None
        self.rounds = 0  # completed steps, so callers can wait for the next one

    def request(self) -> None:
        """Anchor now rather than at the next interval."""
        self._due = True
        self._wake.set()

    async def run(self) -> None:
        next_batch = time.monotonic()
        next_directory = 0.0
        backoff = self._timing.poll
        while True:
            now = time.monotonic()
            if now >= next_batch:
                self._due = True
                next_batch = now + self._timing.interval
            try:
                if now >= next_directory:
                    await self._directory.refresh()
                    next_directory = now + DIRECTORY_REFRESH
                await self.step()
                self.last_error = None
                backoff = self._timing.poll
            except ChatboxError as exc:
                self.last_error = exc.message + (f" ({exc.detail})" if exc.detail else "")
                log.warning("anchoring waits: %s", self.last_error)
                backoff = min(backoff * 2, MAX_BACKOFF)
            delay = min(backoff, max(0.0, next_batch - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            self._wake.clear()

    async def step(self) -> None:
        """One round: batch if due, pin the open manifest, move the transaction queue."""
        await self._check_chain()
        if self._due:
            self._due = False
            batch_id = await self.build_batch()
            if batch_id is not None:
                log.info("recorded anchoring batch %d", batch_id)
        batch = await self._batches.open_batch()
        if batch is not None and not batch.stored:
            # The manifest is on IPFS before any transaction names it; a failure raises.
            await self._content.put_blocks([batch.manifest])
            await self._batches.mark_manifest_stored(batch.id)
        await self._sender.step()
        if self._sender.take_registered():
            await self._directory.refresh()
        self.rounds += 1

    async def build_batch(self) -> int | None:
        """Record a batch of every changed channel, unless one still waits for the chain."""
        known = {channel.id: channel for channel in await self._channels.all()}
        created = int(time.time())

        def plan(changed: dict[str, list[str]]) -> PlannedBatch | None:
            entries = [
                manifests.BatchEntry(
                    channel_id=channel_id,
                    name=known[channel_id].name,
                    visibility=known[channel_id].visibility,
                    heads=heads,
                    nonce=os.urandom(merkle.NONCE_LENGTH),
                )
                for channel_id, heads in sorted(changed.items())
                if channel_id in known
            ]
            if not entries:
                return None
            raw = manifests.build(self._identity, self._vault_key, created, entries)
            return PlannedBatch(
                root=merkle.root([entry.leaf for entry in entries]),
                manifest_cid=raw_cid(raw),
                manifest=raw,
                leaves=[(entry.channel_id, entry.heads, entry.nonce) for entry in entries],
            )

        batch_id = await self._batches.record_batch(plan)
        if batch_id is not None:
            self.last_batch_at = time.time()
        return batch_id

    async def _check_chain(self) -> None:
        if self._chain_checked:
            return
        actual = await self._chain.chain_id()
        if actual != self._expected_chain_id:
            raise ChatboxError(
                f"the chain node serves chain {actual}, not the configured chain_id "
                f"{self._expected_chain_id}; nothing is sent"
            )
        if not await self._chain.has_registry():
            raise ChatboxError(f"no registry contract at {self._chain.registry}")
        self._chain_checked = True

    async def status(self) -> dict[str, Any]:
        counts = await self._txs.tx_counts()
        last = await self._batches.last_confirmed_anchor()
        return {
            "pending_transactions": counts.get("queued", 0) + counts.get("sent", 0),
            "confirmed_transactions": counts.get("confirmed", 0),
            "failed_transactions": counts.get("failed", 0),
            "last_anchor": None
            if last is None
            else {
                "block": last.tx.block_number,
                "tx": last.tx.tx_hash,
                "manifest": last.manifest_cid,
                "channels": len(last.leaves),
            },
            "last_error": self.last_error,
        }
