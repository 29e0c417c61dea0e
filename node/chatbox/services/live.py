"""Live delivery of new messages to the browsers watching a channel, and who is online.

Each watcher gets its own bounded queue. A watcher too slow to keep up is dropped rather
than letting the box buffer without limit; its browser reconnects and pages the gap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

WATCHER_QUEUE = 256
ONLINE_GRACE = 120  # seconds someone still counts as online after their last stream closed
_DROPPED = object()


@dataclass(frozen=True)
class Joined:
    """Told to a person's open streams: they now belong to this channel (a conversation)."""

    channel_id: str


@dataclass(frozen=True)
class GrantWaiting:
    """Told to a person's open streams: a conversation's key came for them, still sealed;
    the stream holds their unlocked key and opens it."""


class LiveFeed:
    def __init__(self) -> None:
        self._watchers: dict[str, set[asyncio.Queue[Any]]] = {}
        self._last_seen: dict[int, float] = {}
        self._streams: dict[int, set[asyncio.Queue[Any]]] = {}  # each account's open streams
        self._following: set[asyncio.Queue[Any]] = set()  # streams of all a person's channels

    def publish(self, channel_id: str, message: Any) -> None:
        """Hand ``message`` to every watcher of the channel, now."""
        for queue in list(self._watchers.get(channel_id, ())):
            self._tell(queue, message)

    async def watch(
        self, channel_id: str, account_id: int, quiet_after: float = 15.0
    ) -> AsyncIterator[Any]:
        """Messages published to the channel from now on, until the caller stops.

        Yields None after ``quiet_after`` seconds without one, so the caller can keep an
        idle connection alive.
        """
        async for message in self.watch_all([channel_id], account_id, quiet_after):
            yield message

    async def watch_all(
        self,
        channel_ids: list[str],
        account_id: int,
        quiet_after: float = 15.0,
        follow_joins: bool = False,
    ) -> AsyncIterator[Any]:
        """Messages published to any of the channels from now on, in one stream: what a
        person's page needs to keep every channel's unread count live. With
        ``follow_joins``, also the conversations the person joins while it is open."""
        queue: asyncio.Queue[Any] = asyncio.Queue(WATCHER_QUEUE)
        for channel_id in channel_ids:
            self._watchers.setdefault(channel_id, set()).add(queue)
        self._streams.setdefault(account_id, set()).add(queue)
        if follow_joins:
            self._following.add(queue)
        try:
            while True:
                try:
                    async with asyncio.timeout(quiet_after):
                        message = await queue.get()
                except TimeoutError:
                    message = None
                if message is _DROPPED:
                    return
                yield message
        finally:
            for channel_id in list(self._watchers):  # with those joined while it was open
                self._forget(channel_id, queue)
            self._following.discard(queue)
            streams = self._streams.get(account_id, set())
            streams.discard(queue)
            if not streams:
                self._streams.pop(account_id, None)
            self._last_seen[account_id] = time.time()

    def join(self, account_id: int, channel_id: str) -> None:
        """The account's open streams carry the channel from now on, and say so."""
        for queue in self._followers(account_id):
            self._watchers.setdefault(channel_id, set()).add(queue)
            self._tell(queue, Joined(channel_id))

    def grant_waiting(self, account_id: int) -> None:
        for queue in self._followers(account_id):
            self._tell(queue, GrantWaiting())
            return  # one stream opening it is enough; the others hear of the join

    def _followers(self, account_id: int) -> list[asyncio.Queue[Any]]:
        return [q for q in self._streams.get(account_id, ()) if q in self._following]

    def end_streams(self, account_id: int) -> None:
        """Close the account's open streams: it was switched off or removed."""
        for queue in list(self._streams.pop(account_id, ())):
            self._drop(queue)

    def availability(self, account_id: int, last_seen: int) -> str:
        """'online' while someone has a live stream open (or just closed one), else 'offline'."""
        if self._streams.get(account_id):
            return "online"
        recent = max(self._last_seen.get(account_id, 0.0), float(last_seen))
        return "online" if time.time() - recent < ONLINE_GRACE else "offline"

    def watcher_count(self) -> int:
        return len({id(queue) for queues in self._watchers.values() for queue in queues})

    def _tell(self, queue: asyncio.Queue[Any], news: Any) -> None:
        try:
            queue.put_nowait(news)
        except asyncio.QueueFull:
            self._drop(queue)

    def _forget(self, channel_id: str, queue: asyncio.Queue[Any]) -> None:
        self._watchers.get(channel_id, set()).discard(queue)
        if not self._watchers.get(channel_id):
            self._watchers.pop(channel_id, None)

    def _drop(self, queue: asyncio.Queue[Any]) -> None:
        for channel in list(self._watchers):
            self._forget(channel, queue)
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(_DROPPED)
