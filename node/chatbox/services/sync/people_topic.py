"""The people topic every box follows: who is on each box, and the grants it delivers.

A box announces its people's cards and names, and the grants it made in the last week,
shortly after it starts, when a grant is made, and every ``people`` seconds; boxes that
come later or were away then still receive a grant (docs/PROTOCOL.md section 12).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from chatbox.domain import direct
from chatbox.domain.direct import Card, Grant, PeopleAnnouncement, Person
from chatbox.domain.identity import Identity
from chatbox.errors import ChatboxError, InvalidEnvelope, Unavailable
from chatbox.ports import PeerBook, PeerNetwork
from chatbox.services.sync.announcer import Announcer
from chatbox.services.sync.people import RemotePeople
from chatbox.services.sync.report import SyncReport

log = logging.getLogger("chatbox.services.sync")


class Introductions(Protocol):
    """What the people topic reads and feeds: ``ConversationService`` on a box."""

    async def local_cards(self) -> list[Card]: ...
    async def grants_to_send(self) -> list[Grant]: ...
    async def learn_cards(self, cards: list[Card]) -> None: ...
    async def arrived(self, grants: tuple[Grant, ...]) -> int: ...


class PeopleTopic:
    def __init__(
        self,
        box: Identity,
        announcer: Announcer,
        network: PeerNetwork,
        introductions: Introductions,
        people: RemotePeople,
        peers: PeerBook,
        report: SyncReport,
        every: float,
        retry: float,
        local_names: Callable[[], Awaitable[dict[str, str]]],
        local_handles: Callable[[], Awaitable[dict[str, str]]],
    ) -> None:
        self._box = box
        self._announcer = announcer
        self._network = network
        self._introductions = introductions
        self._people = people
        self._peers = peers
        self._report = report
        self._every = every
        self._retry = retry
        self._local_names = local_names
        self._local_handles = local_handles
        self._soon = asyncio.Event()

    def announce_soon(self) -> None:
        """Announce at once (a grant was made, a box connected), not at the next round."""
        self._soon.set()

    async def run(self) -> None:
        listener = asyncio.create_task(self._listen(), name="people topic")
        try:
            await asyncio.sleep(self._retry / 4)  # let the subscription open first
            while True:
                self._soon.clear()
                try:
                    await self.announce()
                except Unavailable as exc:
                    self._report.unavailable(exc)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._every):
                        await self._soon.wait()
        finally:
            listener.cancel()

    async def announce(self) -> None:
        names, handles = await self._local_names(), await self._local_handles()
        cards = [card for card in await self._introductions.local_cards() if card.key in handles]
        people = [
            Person(card, handles[card.key], names.get(card.key, handles[card.key]))
            for card in cards
        ]
        grants = await self._introductions.grants_to_send()
        for some_people, some_grants in direct.split_people(people, grants):
            announcement = PeopleAnnouncement(
                box=self._box.public_key,
                name=self._announcer.name,
                peer=await self._announcer.peer_id(),
                ts=time.time_ns() // 1_000_000,
                people=tuple(some_people),
                grants=tuple(some_grants),
            )
            data = direct.encode_people(announcement, self._box)
            await self._network.publish(direct.PEOPLE_TOPIC, data)

    async def _listen(self) -> None:
        while True:
            try:
                async for sender, data in self._network.subscribe(direct.PEOPLE_TOPIC):
                    await self._handle(sender, data)
            except Unavailable as exc:
                self._report.unavailable(exc)
            await asyncio.sleep(self._retry)

    async def _handle(self, sender: str, data: bytes) -> None:
        if sender == await self._announcer.peer_id():
            return  # our own, echoed back by the daemon
        try:
            announcement = direct.decode_people(data, sender)
        except InvalidEnvelope as exc:
            self._report.rejected += 1
            await self._peers.rejected(sender)
            log.warning("people announcement from %s refused: %s", sender, exc.message)
            return
        try:
            await self._introductions.learn_cards([person.card for person in announcement.people])
            await self._people.introduced(announcement)
            await self._introductions.arrived(announcement.grants)
        except ChatboxError as exc:  # one bad announcement must not end the topic
            log.warning("people announcement from %s: %s", announcement.name, exc.message)
