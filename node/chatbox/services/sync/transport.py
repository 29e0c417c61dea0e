"""The transport loop: one subscription per channel, kept open, and the periodic exchange."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Protocol

from chatbox.domain import sync
from chatbox.domain.channels import Channel, pubsub_topic
from chatbox.errors import ChatboxError, InvalidEnvelope, Unavailable
from chatbox.ports import PeerBook, PeerNetwork
from chatbox.services.supervisor import TaskSupervisor
from chatbox.services.sync.announcer import Announcer
from chatbox.services.sync.exchange import HeadsExchange
from chatbox.services.sync.intake import EntryIntake
from chatbox.services.sync.pacing import Pacer
from chatbox.services.sync.report import SyncReport
from chatbox.services.sync.timing import SyncTiming

log = logging.getLogger("chatbox.services.sync")
HEARD_EVERY = 10.0  # seconds between buddy-list writes for one box


class HeldChannels(Protocol):
    """The channels this box holds: ``ChannelService`` on a box."""

    async def all(self) -> list[Channel]: ...


class ChannelSync:
    def __init__(
        self,
        announcer: Announcer,
        network: PeerNetwork,
        channels: HeldChannels,
        exchange: HeadsExchange,
        intake: EntryIntake,
        peers: PeerBook,
        report: SyncReport,
        tasks: TaskSupervisor,
        timing: SyncTiming,
    ) -> None:
        self._announcer = announcer
        self._network = network
        self._channels = channels
        self._exchange = exchange
        self._intake = intake
        self._peers = peers
        self._report = report
        self._tasks = tasks
        self._timing = timing
        self._peer_id = ""
        self._listeners: dict[str, asyncio.Task[None]] = {}
        self._subscribed: set[str] = set()  # channels whose subscription had time to open
        self._channels_changed = asyncio.Event()
        self._buddy_writes = Pacer(HEARD_EVERY)

    async def run(self) -> None:
        """Keep every channel's subscription open and exchange heads periodically."""
        try:
            while not self._peer_id:
                try:
                    self._peer_id = await self._announcer.peer_id()
                except Unavailable as exc:
                    self._report.unavailable(exc)
                    await asyncio.sleep(self._timing.retry)
            next_exchange = 0.0
            while True:
                self._channels_changed.clear()
                await self._follow_channels()
                if time.monotonic() >= next_exchange:
                    await self.exchange()
                    next_exchange = time.monotonic() + self._timing.exchange
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._timing.watch):
                        await self._channels_changed.wait()
        finally:
            for task in self._listeners.values():
                task.cancel()
            self._tasks.cancel()

    def follow_new_channels(self) -> None:
        """A channel came to this box: subscribe to it now, not at the next look."""
        self._channels_changed.set()

    async def exchange(self) -> None:
        """Announce the heads of every channel subscribed to (on a new peer, periodically).

        A channel not yet subscribed to waits for its greeting: the answers to an
        announcement made before would reach this box's IPFS node and nobody else.
        """
        for channel in await self._channels.all():
            if channel.id in self._subscribed:
                await self._exchange.announce_heads(channel)

    def status(self) -> dict[str, Any]:
        return {
            "channels": len(self._listeners),
            "received": self._report.received,
            "rejected": self._report.rejected,
            "last_error": self._report.last_error,
        }

    async def _follow_channels(self) -> None:
        for channel in await self._channels.all():
            task = self._listeners.get(channel.id)
            if task is not None and task.done() and not task.cancelled():
                log.error(
                    "sync of %s stopped; restarting it", channel.name, exc_info=task.exception()
                )
            if task is None or task.done():
                self._listeners[channel.id] = asyncio.create_task(
                    self._listen(channel), name=f"sync {channel.name}"
                )
                self._tasks.spawn(self._greet(channel))

    async def _greet(self, channel: Channel) -> None:
        """Announce a newly followed channel's heads, even none, once subscribed.

        Boxes holding more answer with their heads, so a channel just joined (or a box
        just started) catches up at once instead of at the next periodic exchange.
        """
        await asyncio.sleep(self._timing.settle)
        self._subscribed.add(channel.id)
        await self._exchange.announce_heads(channel)

    async def _listen(self, channel: Channel) -> None:
        topic = pubsub_topic(channel)
        while True:
            try:
                async for sender, data in self._network.subscribe(topic):
                    await self._handle(channel, sender, data)
            except Unavailable as exc:
                self._report.unavailable(exc)
            await asyncio.sleep(self._timing.retry)

    async def _handle(self, channel: Channel, sender: str, data: bytes) -> None:
        if sender == self._peer_id:
            return  # our own announcement, echoed back by the daemon
        try:
            announcement = sync.decode(data, channel.id, channel.key, sender)
        except InvalidEnvelope as exc:
            await self._intake.reject(sender, channel, exc)
            return
        try:
            await self._heard(sender, announcement)
            await self._exchange.handle(channel, announcement)
        except Unavailable as exc:
            self._report.unavailable(exc)
        except ChatboxError as exc:  # one bad exchange must not end the channel's sync
            log.warning("sync of %s: %s", channel.name, exc.message)

    async def _heard(self, sender: str, announcement: sync.Announcement) -> None:
        # One buddy-list write per box every few seconds, not one per message.
        if self._buddy_writes.due(sender):
            await self._peers.heard(sender, announcement.box, announcement.name)
