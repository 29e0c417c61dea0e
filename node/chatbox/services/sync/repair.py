"""Repair: fetch by CID, through IPFS, the entries no pack brought.

Bitswap finds them on whichever connected box holds them, so a log heals even when the
box that announced them is gone.
"""

from __future__ import annotations

import asyncio

from chatbox.domain.channels import Channel
from chatbox.domain.cid import raw_cid
from chatbox.errors import ChatboxError
from chatbox.ports import LogReplica, PeerNetwork
from chatbox.services.supervisor import TaskSupervisor
from chatbox.services.sync.intake import EntryIntake, content_cids

FETCHES_IN_FLIGHT = 32
FETCH_TIMEOUT = 20.0


class LogRepair:
    def __init__(
        self,
        replica: LogReplica,
        network: PeerNetwork,
        intake: EntryIntake,
        tasks: TaskSupervisor,
        delay: float,
    ) -> None:
        self._replica = replica
        self._network = network
        self._intake = intake
        self._tasks = tasks
        self._delay = delay  # how long a want may go unanswered before fetching
        self._wanted: dict[str, set[str]] = {}
        self._running: dict[str, asyncio.Task[None]] = {}

    def want(self, channel: Channel, cids: set[str]) -> None:
        """Entries a peer named that this box lacks: fetched unless a pack brings them."""
        self._wanted.setdefault(channel.id, set()).update(cids)
        self.schedule(channel)

    def schedule(self, channel: Channel) -> None:
        """Look for what the channel lacks after the delay (once, however often asked)."""
        running = self._running.get(channel.id)
        if running is None or running.done():
            self._running[channel.id] = self._tasks.spawn(self._repair(channel))

    async def blocks(self, cids: list[str]) -> list[bytes | None]:
        """Blocks by CID through IPFS, many in flight; None for one not found or not matching."""
        gate = asyncio.Semaphore(FETCHES_IN_FLIGHT)

        async def fetch(cid: str) -> bytes | None:
            async with gate:
                try:
                    raw = await self._network.get_block(cid, timeout=FETCH_TIMEOUT)
                except ChatboxError:
                    return None
            return raw if raw_cid(raw) == cid else None

        return list(await asyncio.gather(*map(fetch, cids)))

    async def _repair(self, channel: Channel) -> None:
        await asyncio.sleep(self._delay)
        while True:
            wanted = self._wanted.pop(channel.id, set())
            missing = set(await self._replica.dangling(channel.id))
            missing |= wanted - await self._replica.held(list(wanted))
            if not missing:
                return
            raws = [raw for raw in await self.blocks(sorted(missing)) if raw is not None]
            named = content_cids(channel, raws)
            contents = [block for block in await self.blocks(named) if block is not None]
            if not await self._intake.ingest(channel, raws, "", contents):
                return  # nobody serves them now; the next exchange tries again
