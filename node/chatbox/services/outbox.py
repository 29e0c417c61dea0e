"""The outbox: entries committed locally, waiting to be pinned on IPFS.

A post is acknowledged once SQLite holds it; this worker then hands the waiting envelopes
to IPFS a batch at a time (one archive, one pin), and drops them from the outbox only
after IPFS confirmed the batch. Storing a block is idempotent, so a retry after an outage
or a crash may store a batch again but never duplicates or loses an entry.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from chatbox.errors import Unavailable
from chatbox.ports import ContentStore, PinQueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxTiming:
    batch: int = 1000
    # Envelopes are at most 64 KiB: bound what one batch holds in memory on a 512 MB Pi.
    batch_bytes: int = 4 * 1024 * 1024
    first_retry: float = 0.5
    max_retry: float = 30.0
    # After a wake, wait this long before pinning, so posts arriving one by one go to
    # IPFS as fewer batches (each one a dag/import and a recursive pin). On Kubo, 0.2 s
    # cut its CPU per 1,000 trickled posts from 7.8 to 2.3 s and A->B p50 from 37 to 7 ms
    # (scripts/bench_sync.py --gather); a post is acknowledged before it either way.
    gather: float = 0.2


DEFAULT_OUTBOX_TIMING = OutboxTiming()


class Outbox:
    def __init__(
        self, pins: PinQueue, content: ContentStore, timing: OutboxTiming = DEFAULT_OUTBOX_TIMING
    ) -> None:
        self._pins = pins
        self._content = content
        self._timing = timing
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self.last_error: str | None = None

    def wake(self) -> None:
        """Tell the worker there is something to pin."""
        self._idle.clear()
        self._wake.set()

    async def run(self) -> None:
        """Pin pending entries until cancelled, backing off while IPFS is unreachable."""
        delay = self._timing.first_retry
        while True:
            self._wake.clear()
            try:
                flushed = await self.flush_once()
            except Exception as exc:  # the worker must outlive any one failed batch
                self._report(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._timing.max_retry)
                continue
            delay = self._timing.first_retry
            if self.last_error is not None:
                log.info("IPFS is reachable again; pinning what waited in the outbox")
                self.last_error = None
            if flushed == 0:
                self._idle.set()
                await self._wake.wait()
                if self._timing.gather:
                    await asyncio.sleep(self._timing.gather)

    async def flush_once(self) -> int:
        """Pin one batch, then drop what deletes left behind; returns how many entries
        left the outbox (and blocks IPFS let go of)."""
        pending = await self._pins.outbox(self._timing.batch)
        batch: list[tuple[str, bytes, bytes | None]] = []
        size = 0
        for cid, raw, block in pending:
            if batch and size + len(raw) + len(block or b"") > self._timing.batch_bytes:
                break
            batch.append((cid, raw, block))
            size += len(raw) + len(block or b"")
        if batch:
            # Envelopes stay for good, so they share one pinned root; content blocks are
            # pinned one by one, so that a delete can unpin one.
            await self._content.put_blocks([raw for _, raw, _ in batch])
            blocks = [block for _, _, block in batch if block is not None]
            if blocks:
                await self._content.put_pinned_blocks(blocks)
            await self._pins.mark_stored([cid for cid, _, _ in batch])
        return len(batch) + await self._forget_some()

    async def _forget_some(self) -> int:
        """Unpin and remove from IPFS a few blocks deletes dropped; how many were."""
        forgotten = await self._pins.forgotten(self._timing.batch)
        for cid in forgotten:
            await self._content.drop(cid)
        if forgotten:
            await self._pins.gone_from_ipfs(forgotten)
        return len(forgotten)

    async def flush(self) -> int:
        """Pin everything pending now, without the worker (one-shot commands); returns how
        many entries left the outbox. Raises IpfsUnavailable if IPFS cannot take them."""
        total = 0
        while flushed := await self.flush_once():
            total += flushed
        return total

    async def drained(self) -> None:
        """Wait until nothing is left to pin (used by reindex, benchmarks and tests)."""
        while True:
            self._idle.clear()
            if await self._pins.pending_count() == 0:
                return
            self.wake()
            await self._idle.wait()

    def _report(self, exc: Exception) -> None:
        message = exc.message if isinstance(exc, Unavailable) else f"unexpected error: {exc}"
        if self.last_error is None:
            log.warning(
                "cannot pin new entries on IPFS yet (%s); they wait in the outbox and are retried",
                message,
                exc_info=not isinstance(exc, Unavailable),
            )
        self.last_error = message
