"""The buddy list of boxes: discovery, dialling, availability, and exchange on connect.

Boxes come from mDNS on the LAN or are added by multiaddr for boxes beyond it. The box's
IPFS node is connected to each (``swarm connect``) so bitswap and pubsub work without the
public DHT; a dropped connection is dialled again. Whenever a peer connects or
reconnects, this box announces its heads at once, which starts the repair of whatever
either side missed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from chatbox.domain.identity import fingerprint
from chatbox.errors import ChatboxError, InvalidInput, NotFound, Unavailable
from chatbox.ports import DiscoveredBox, FilePins, PeerBook, PeerNetwork, PeerRecord
from chatbox.services.live import ONLINE_GRACE
from chatbox.services.supervisor import TaskSupervisor
from chatbox.services.sync import DEFAULT_SYNC_TIMING, ChannelSync, RemotePeople, SyncTiming

log = logging.getLogger(__name__)
# A multiaddr ends in the peer id of the node it reaches (https://github.com/multiformats/multiaddr).
_PEER_SUFFIX = re.compile(r"/(?:p2p|ipfs)/([1-9A-HJ-NP-Za-km-z]{40,100}|b[a-z2-7]{50,100})$")
MAX_MULTIADDR = 300


def peer_id_of(multiaddr: str) -> str:
    """The peer id a dialable multiaddr ends in; InvalidInput if it names none."""
    match = (
        _PEER_SUFFIX.search(multiaddr)
        if isinstance(multiaddr, str) and len(multiaddr) <= MAX_MULTIADDR
        else None
    )
    if match is None or not multiaddr.startswith("/"):
        raise InvalidInput(
            "give the peer's full multiaddr, ending in /p2p/<peer id>",
            detail=str(multiaddr)[:80],
        )
    return match.group(1)


@dataclass(frozen=True)
class KnownBox:
    """Another box in the buddy list, with whether it is reachable now."""

    peer_id: str
    name: str
    fingerprint: str | None  # of its box key, once an announcement signed by it arrived
    addresses: list[str]
    source: str  # 'mdns' | 'manual' | 'pubsub'
    on_lan: bool
    availability: str  # 'online' while connected, else 'offline'
    last_seen: int  # unix seconds; 0 if never
    rejected: int  # invalid announcements or entries it sent


@dataclass(frozen=True)
class OtherBoxPerson:
    """An author on another box, online while their latest message is recent."""

    name: str
    fingerprint: str
    box: str
    availability: str
    key: str


@dataclass(frozen=True)
class AddedBox:
    peer_id: str
    connected: bool


@dataclass(frozen=True)
class PeerCounts:
    connected: int
    on_lan: list[str]  # mDNS names of the boxes on the LAN
    files: dict[str, int]  # files of other boxes to pin, by state


class PeerService:
    def __init__(
        self,
        network: PeerNetwork,
        peers: PeerBook,
        files: FilePins,
        sync: ChannelSync,
        remote_people: RemotePeople,
        timing: SyncTiming = DEFAULT_SYNC_TIMING,
    ) -> None:
        self._network = network
        self._peers = peers
        self._files = files
        self._sync = sync
        self._remote_people = remote_people
        self._timing = timing
        self._connected: set[str] = set()
        self._on_lan: dict[str, DiscoveredBox] = {}  # mDNS name -> box
        self._last_dial: dict[str, float] = {}
        self._exchange: asyncio.Task[None] | None = None
        self._tasks = TaskSupervisor("peers")
        self._greetings: list[Callable[[], None]] = []

    def on_box_connected(self, greet: Callable[[], None]) -> None:
        """Call ``greet()`` when a box connects (the people topic introduces this box's
        people at once rather than at its next round)."""
        self._greetings.append(greet)

    async def run(self) -> None:
        """Watch connections: exchange heads with new ones, dial known boxes that dropped."""
        try:
            while True:
                try:
                    await self._watch()
                except Unavailable as exc:
                    log.debug("cannot watch peers yet: %s", exc.message)
                    # Dial every known box as soon as the IPFS node is back, not a
                    # redial interval later: its connections went with it.
                    self._last_dial.clear()
                await asyncio.sleep(self._timing.watch)
        finally:
            self._tasks.cancel()

    async def found(self, box: DiscoveredBox) -> None:
        """A box appeared (or changed) on the LAN: remember it and connect to it."""
        self._on_lan[box.name] = box
        addresses = box.multiaddrs or [
            f"/ip4/{address}/tcp/4001/p2p/{box.peer_id}" for address in box.addresses
        ]
        await self._peers.remember(box.peer_id, "mdns", addresses, box.name)
        if await self._dial(box.peer_id, addresses):
            self._exchange_soon()

    def lost(self, name: str) -> None:
        """A box left the LAN (its mDNS record expired or was withdrawn)."""
        self._on_lan.pop(name, None)

    async def add(self, multiaddr: str) -> AddedBox:
        """Add a box beyond the LAN by multiaddr; kept and redialled even if down now."""
        peer_id = peer_id_of(multiaddr)
        await self._peers.remember(peer_id, "manual", [multiaddr], "")
        connected = await self._dial(peer_id, [multiaddr])
        if connected:
            self._exchange_soon()
        return AddedBox(peer_id, connected)

    async def remove(self, peer_id: str) -> None:
        """Forget a box and drop the connection to it."""
        known = {peer.peer_id: peer for peer in await self._peers.peers()}
        if peer_id not in known or not await self._peers.forget(peer_id):
            raise NotFound("no such peer", detail=str(peer_id)[:80])
        for address in known[peer_id].addresses:
            try:
                await self._network.swarm_disconnect(address)
            except ChatboxError:
                continue  # not connected there
            break

    async def people(self) -> list[OtherBoxPerson]:
        """Authors on other boxes, online while their latest message is recent."""
        now = time.time()
        return [
            OtherBoxPerson(
                person.name,
                fingerprint(person.public_key),
                person.box_name,
                "online" if now - person.last_seen < ONLINE_GRACE else "offline",
                person.public_key,
            )
            for person in await self._remote_people.people()
        ]

    async def boxes(self) -> list[KnownBox]:
        """Every known box with its availability: online while connected, else last seen."""
        lan_peers = {box.peer_id for box in self._on_lan.values()}
        return [self._view(peer, peer.peer_id in lan_peers) for peer in await self._peers.peers()]

    async def counts(self) -> PeerCounts:
        return PeerCounts(
            len(self._connected), sorted(self._on_lan), await self._files.file_pin_counts()
        )

    async def _watch(self) -> None:
        connected = await self._network.swarm_peers()
        arrived = connected - self._connected
        self._connected = connected
        known = await self._peers.peers()
        # Only boxes count: a Kubo on the internet churns through DHT peers all day.
        if arrived & {peer.peer_id for peer in known}:
            self._exchange_soon()
        for peer in known:
            redial = self._timing.redial
            since_dial = time.monotonic() - self._last_dial.get(peer.peer_id, -redial)
            dialable = peer.source in ("mdns", "manual") and since_dial >= redial
            if dialable and peer.peer_id not in connected:
                await self._dial(peer.peer_id, peer.addresses)

    def _exchange_soon(self) -> None:
        """Exchange heads with a box just connected (one exchange serves any number)."""
        if self._exchange is None or self._exchange.done():
            self._exchange = self._tasks.spawn(self._exchange_after_settle(), "exchange")

    async def _exchange_after_settle(self) -> None:
        # Gossipsub learns the new peer's topics in its first exchange; wait for that.
        await asyncio.sleep(self._timing.settle)
        for greet in self._greetings:
            greet()
        await self._sync.exchange()

    async def _dial(self, peer_id: str, addresses: list[str]) -> bool:
        self._last_dial[peer_id] = time.monotonic()
        for address in addresses:
            try:
                await self._network.swarm_connect(address)
            except ChatboxError as exc:
                log.debug("cannot connect to %s at %s: %s", peer_id, address, exc.message)
                continue
            log.info("connected to box %s at %s", peer_id, address)
            return True
        return False

    def _view(self, peer: PeerRecord, on_lan: bool) -> KnownBox:
        return KnownBox(
            peer.peer_id,
            peer.name,
            fingerprint(peer.box_key) if peer.box_key else None,
            peer.addresses,
            peer.source,
            on_lan,
            "online" if peer.peer_id in self._connected else "offline",
            peer.last_seen,
            peer.rejected,
        )
