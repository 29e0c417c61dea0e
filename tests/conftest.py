"""Fixtures that start the real development daemons (DESIGN.md section 7) on free ports."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from blockbuster import blockbuster_ctx

from chatbox.adapters.ipfs import IpfsClient
from chatbox.config import Settings
from chatbox.daemon import Node
from chatbox.devstack import IpfsDaemon
from chatbox.services.accounts import Member
from chatbox.services.outbox import OutboxTiming

# scrypt at 2**10 keeps account creation fast in tests; the node uses 2**15.
TEST_PASSWORD_COST = 10
FAST_OUTBOX = OutboxTiming(first_retry=0.05, max_retry=0.2)


@pytest.fixture(scope="session")
def ipfs_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IpfsDaemon]:
    """One real Kubo daemon, configured as a box configures its own, shared by the session."""
    daemon = IpfsDaemon(tmp_path_factory.mktemp("ipfs") / "repo").start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def second_ipfs_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IpfsDaemon]:
    """Another daemon, for what crosses between IPFS nodes (pubsub, bitswap)."""
    daemon = IpfsDaemon(tmp_path_factory.mktemp("ipfs2") / "repo").start()
    yield daemon
    daemon.stop()


@pytest.fixture
async def ipfs(ipfs_daemon: IpfsDaemon) -> AsyncIterator[IpfsClient]:
    async with aiohttp.ClientSession() as session:
        yield IpfsClient(session, ipfs_daemon.api_url)


async def unpinned(ipfs: IpfsClient, cids: list[str]) -> list[str]:
    """The CIDs IPFS does not hold pinned, in their given order."""
    pinned = await ipfs.pinned_among(cids)
    return [cid for cid in cids if cid not in pinned]


def node_settings(data_dir: Path, ipfs_api: str, **overrides: object) -> Settings:
    base = Settings(
        data_dir=data_dir,
        ipfs_api=ipfs_api,
        http_host="127.0.0.1",
        http_port=8080,
        upload_limit=4 * 1024 * 1024,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture
async def node(tmp_path: Path, ipfs_daemon: IpfsDaemon) -> AsyncIterator[Node]:
    """A started node (no web face) with its own data directory, on the shared IPFS."""
    started = Node(
        node_settings(tmp_path / "node", ipfs_daemon.api_url),
        password_cost=TEST_PASSWORD_COST,
        outbox_timing=FAST_OUTBOX,
    )
    await started.start()
    yield started
    await started.stop()


@pytest.fixture
async def alice(node: Node) -> Member:
    return await node.services.accounts.register("alice", "correct horse", is_admin=True)


@pytest.fixture
async def bob(node: Node) -> Member:
    return await node.services.accounts.register("bob", "battery staple")


async def eventually(
    check: Callable[[], Awaitable[bool]],
    timeout: float = 30.0,
    what: str = "condition",
    poll: float = 0.1,
) -> None:
    """Wait until ``check()`` holds, polling; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:.0f} s")
        await asyncio.sleep(poll)


@pytest.fixture
def no_blocking(node: Node) -> Iterator[None]:
    """Once ``node`` runs, fail the test when the node's own code blocks the event loop
    (file or socket I/O, sleeps, locks where a thread or an async call belongs), as
    python-zeroconf's suite does. Start-up, which opens files before serving, is not held,
    nor is Jinja reading a template from the package the first time a page uses it."""
    with blockbuster_ctx(scanned_modules=["chatbox"]) as guard:
        for call in ("os.stat", "io.BufferedReader.read", "io.TextIOWrapper.read"):
            guard.functions[call].can_block_in("jinja2/loaders.py", {"get_source", "uptodate"})
        # statvfs reads the kernel's counters of the filesystem (under a microsecond); a
        # thread for it would cost each post far more than the call.
        guard.functions["os.statvfs"].can_block_in("chatbox/adapters/disk.py", "usage_of")
        yield
