"""Boxes whose sync runs for real on fakes of IPFS and SQLite, in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from chatbox.domain.channels import Channel
from chatbox.domain.identity import Identity
from chatbox.services.sync import Sync, SyncTiming, build_sync
from tests.fakes.log import FakeChannels, FakeFilePins, FakeLog, FakePeerBook
from tests.fakes.network import FakeNetwork, FakePubsub

# Every wait a hundred times shorter than a box's: a whole exchange takes milliseconds.
FAKE_TIMING = SyncTiming(exchange=0.3, settle=0.01, watch=0.01, repair=0.05, retry=0.01, redial=0.3)


@dataclass
class FakeBox:
    name: str
    identity: Identity
    author: Identity
    log: FakeLog
    network: FakeNetwork
    peers: FakePeerBook
    files: FakeFilePins
    sync: Sync


def fake_box(hub: FakePubsub, name: str, *channels: Channel) -> FakeBox:
    log = FakeLog()
    identity, author = Identity.generate(), Identity.generate()
    network = hub.network(f"peer-{name}", log.block)
    peers, files = FakePeerBook(), FakeFilePins()

    async def local_names() -> dict[str, str]:
        return {author.public_key: f"{name}'s author"}

    sync = build_sync(
        identity,
        name,
        network=network,
        replica=log,
        peers=peers,
        files=files,
        channels=FakeChannels(*channels),
        index=log,
        local_names=local_names,
        timing=FAKE_TIMING,
    )
    return FakeBox(name, identity, author, log, network, peers, files, sync)


@contextlib.asynccontextmanager
async def running(*boxes: FakeBox) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(box.sync.transport.run()) for box in boxes]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
