"""The outbox: entries committed locally, waiting to be pinned on IPFS.

A post is acknowledged once SQLite holds it; this worker then puts the envelopes on IPFS
in batches with several requests in flight, and drops each from the outbox only after
IPFS answered with the same CID. Putting a block is idempotent, so a retry after an
outage or a crash can repeat a put but never duplicates or loses an entry.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from chatbox.errors import Unavailable
from chatbox.ports import ContentStore, LogStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxTiming:
    batch: int = 200
    in_flight: int = 20
    first_retry: float = 0.5
    max_retry: float = 30.0


DEFAULT_OUTBOX_TIMING = OutboxTiming()


class Outbox:
    def __init__(
        self, store: LogStore, content: ContentStore, timing: OutboxTiming = DEFAULT_OUTBOX_TIMING
    ) -> None:
        self._store = store
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
            except Unavailable as exc:
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

    async def flush_once(self) -> int:
        """Pin one batch; returns how many entries left the outbox."""
        pending = await self._store.outbox(self._timing.batch)
        if not pending:
            return 0
        gate = asyncio.Semaphore(self._timing.in_flight)

        async def put(data: bytes) -> str:
            async with gate:
                return await self._content.put_block(data)

        results = await asyncio.gather(*(put(raw) for _, raw in pending), return_exceptions=True)
        done = [cid for (cid, _), result in zip(pending, results, strict=True) if result == cid]
        if done:
            await self._store.mark_stored(done)
        failures = [result for result in results if isinstance(result, BaseException)]
        if failures:
            first = failures[0]
            raise (
                first
                if isinstance(first, Unavailable)
                else Unavailable("pinning entries on IPFS failed", detail=str(first)[:200])
            )
        return len(done)

    async def drained(self) -> None:
        """Wait until nothing is left to pin (used by reindex, benchmarks and tests)."""
        while True:
            self._idle.clear()
            if await self._store.pending_count() == 0:
                return
            self.wake()
            await self._idle.wait()

    def _report(self, exc: Unavailable) -> None:
        if self.last_error is None:
            log.warning(
                "cannot pin new entries on IPFS yet (%s); they wait in the outbox and are retried",
                exc.message,
            )
        self.last_error = exc.message
