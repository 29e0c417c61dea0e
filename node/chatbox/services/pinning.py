"""Pinning the files that peers' entries refer to, so this box keeps them too.

A box pins every entry and file of the channels it holds, whoever wrote them: keeping
only one's own content and the heads is how IPFS chat systems have lost history. The
queue is in SQLite, so a restart resumes it; a file no peer serves now is retried later.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from chatbox.errors import ChatboxError
from chatbox.ports import FilePins, PeerNetwork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PinTiming:
    idle: float = 5.0  # how often the queue is looked at when there is nothing to do
    retry_after: int = 300  # seconds before a failed pin is tried again
    pin_timeout: float = 600.0  # a large file over a slow link may take this long
    batch: int = 8


DEFAULT_PIN_TIMING = PinTiming()


class FilePinner:
    def __init__(
        self, network: PeerNetwork, files: FilePins, timing: PinTiming = DEFAULT_PIN_TIMING
    ) -> None:
        self._network = network
        self._files = files
        self._timing = timing

    async def run(self) -> None:
        """Pin waiting files until cancelled; look again every few seconds when idle."""
        while True:
            try:
                tried = await self.pin_some()
            except ChatboxError as exc:
                log.info("cannot read the pin queue (%s)", exc.message)
                tried = 0
            if not tried:
                await asyncio.sleep(self._timing.idle)

    async def pin_some(self) -> int:
        """Pin a few waiting files at once; returns how many were tried."""
        waiting = await self._files.files_to_pin(
            self._timing.batch, int(time.time()) - self._timing.retry_after
        )
        await asyncio.gather(*map(self._pin, waiting))
        return len(waiting)

    async def _pin(self, cid: str) -> None:
        try:
            await self._network.pin(cid, timeout=self._timing.pin_timeout)
        except ChatboxError as exc:
            log.info("cannot pin file %s yet (%s); retried later", cid, exc.message)
            await self._files.file_pinned(cid, exc.message[:200])
            return
        await self._files.file_pinned(cid, None)
