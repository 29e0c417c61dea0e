"""A fake of IPFS as a libp2p peer: pubsub topics and block fetches between fake boxes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from chatbox.errors import Unavailable
from chatbox.ports import NodeIdentity


class FakePubsub:
    """The topics that fake boxes share. A publish reaches every subscriber, the sender's
    own included, as Kubo echoes a node's messages back to it."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[tuple[str, asyncio.Queue[tuple[str, bytes]]]]] = {}
        self.networks: list[FakeNetwork] = []
        self.sent: list[tuple[str, str, bytes]] = []  # (peer, topic, data), in order
        self.lost = 0
        self.lose: Callable[[bytes], bool] = lambda data: False  # drop what this is true of

    def network(self, peer_id: str, blocks: Callable[[str], bytes | None]) -> FakeNetwork:
        """The fake IPFS node of one box; ``blocks`` gives the blocks it serves by CID."""
        network = FakeNetwork(self, peer_id, blocks)
        self.networks.append(network)
        return network

    def deliver(self, peer_id: str, topic: str, data: bytes) -> None:
        self.sent.append((peer_id, topic, data))
        if self.lose(data):
            self.lost += 1
            return
        for _, queue in self._subscribers.get(topic, []):
            queue.put_nowait((peer_id, data))

    def subscribe(self, peer_id: str, topic: str) -> asyncio.Queue[tuple[str, bytes]]:
        queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._subscribers.setdefault(topic, []).append((peer_id, queue))
        return queue

    def unsubscribe(self, topic: str, queue: asyncio.Queue[tuple[str, bytes]]) -> None:
        self._subscribers[topic] = [s for s in self._subscribers[topic] if s[1] is not queue]


class FakeNetwork:
    """One box's fake IPFS node (a ``PeerNetwork``)."""

    def __init__(
        self, hub: FakePubsub, peer_id: str, blocks: Callable[[str], bytes | None]
    ) -> None:
        self._hub = hub
        self.peer_id = peer_id
        self._blocks = blocks
        self.up = True
        self.fetched: list[str] = []

    async def identity(self) -> NodeIdentity:
        self._check_up()
        return NodeIdentity(self.peer_id, [], "fake")

    async def swarm_connect(self, multiaddr: str) -> None:
        self._check_up()

    async def swarm_disconnect(self, multiaddr: str) -> None:
        self._check_up()

    async def swarm_peers(self) -> set[str]:
        return {n.peer_id for n in self._hub.networks if n is not self}

    async def publish(self, topic: str, data: bytes) -> None:
        self._check_up()
        self._hub.deliver(self.peer_id, topic, data)

    async def subscribe(self, topic: str) -> AsyncIterator[tuple[str, bytes]]:
        self._check_up()
        queue = self._hub.subscribe(self.peer_id, topic)
        try:
            while True:
                yield await queue.get()
        finally:
            self._hub.unsubscribe(topic, queue)

    async def get_block(self, cid: str, timeout: float | None = None) -> bytes:
        """From this box or any other (bitswap); Unavailable at once if none holds it."""
        self._check_up()
        self.fetched.append(cid)
        for network in self._hub.networks:
            raw = network._blocks(cid)
            if raw is not None:
                return raw
        raise Unavailable("no box serves this block", detail=cid)

    async def pin(self, cid: str, timeout: float | None = None) -> None:
        await self.get_block(cid, timeout)

    def _check_up(self) -> None:
        if not self.up:
            raise Unavailable("the fake IPFS node is down")
