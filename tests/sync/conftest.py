"""Boxes on their own real Kubo daemons, syncing over pubsub and bitswap."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from chatbox.adapters.ipfs import IpfsClient
from chatbox.daemon import Node
from chatbox.devstack import IpfsDaemon
from chatbox.services.accounts import Member
from chatbox.services.messages import MAX_PAGE, Message
from chatbox.services.sync import SyncTiming
from tests.conftest import FAST_OUTBOX, TEST_PASSWORD_COST, node_settings

# Short timers so a test sees exchanges and repairs within a second or two.
FAST_SYNC = SyncTiming(
    exchange=2.0, settle=0.5, watch=0.3, repair=1.0, retry=0.3, redial=1.0, people=1.0
)


@pytest.fixture(scope="module")
def daemons(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[IpfsDaemon]]:
    """Three IPFS daemons of this module's own, so a test may stop and restart one."""
    started = [
        IpfsDaemon(tmp_path_factory.mktemp(f"sync-ipfs{index}") / "repo").start()
        for index in range(3)
    ]
    yield started
    for daemon in started:
        daemon.stop()


class Boxes:
    """Start boxes (nodes) on given daemons; all are stopped at the end of the test."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self.nodes: list[Node] = []

    async def start(self, name: str, daemon: IpfsDaemon) -> Node:
        node = Node(
            node_settings(self._root / name, daemon.api_url, box_name=name),
            password_cost=TEST_PASSWORD_COST,
            outbox_timing=FAST_OUTBOX,
            sync_timing=FAST_SYNC,
        )
        await node.start()
        self.nodes.append(node)
        return node

    async def stop(self, node: Node) -> None:
        self.nodes.remove(node)
        await node.stop()


@pytest.fixture
async def boxes(tmp_path: Path) -> AsyncIterator[Boxes]:
    started = Boxes(tmp_path)
    yield started
    for node in list(started.nodes):
        await started.stop(node)


async def admin(node: Node, name: str) -> Member:
    return await node.services.accounts.register(name, "correct horse", is_admin=True)


async def logged_in(node: Node, name: str) -> Member:
    """An admin account with a session opened, as a login does: its card is made then."""
    member = await admin(node, name)
    await node.services.sessions.open(member)
    return member


async def multiaddr(daemon: IpfsDaemon) -> str:
    async with aiohttp.ClientSession() as session:
        return (await IpfsClient(session, daemon.api_url).identity()).addresses[0]


async def peer_with(node: Node, other: IpfsDaemon) -> None:
    """Add the box on ``other`` to ``node``'s buddy list by multiaddr, as an owner would."""
    address = await multiaddr(other)
    added = await node.services.peers.add(address)
    assert added.connected, f"could not reach {address}"


async def history(node: Node, reader: Member, channel_id: str) -> list[Message]:
    """A channel's whole history as a member pages through it, oldest first."""
    messages: list[Message] = []
    before = None
    while True:
        page = await node.services.messages.history(reader, channel_id, before, MAX_PAGE)
        messages[:0] = page.messages
        if page.before is None:
            return messages
        before = page.before
