"""Benchmark of sync between two boxes on the development stack; prints figures, asserts nothing.

    .venv/bin/python scripts/bench_sync.py [--quick]

Starts two Kubo daemons (configured as boxes' are) and two nodes in this process, with
the box's own sync timers and their data on disk, peered by multiaddr as an owner would,
and measures:
- propagation A -> B: from the start of a post on A to its arrival on B's live stream,
  p50/p99 over every one of 1,000 messages posted one every 10 ms (one that never
  arrives counts as a failure, not a missing sample), pinning on;
- convergence: B's IPFS node stopped, 10,000 messages posted on A, B's IPFS started again;
  the time until B holds all of them (indexed, visible), and until B pinned them too;
- throughput: both boxes posting at once, messages per second until each holds all;
and for each the CPU seconds both nodes (one process) and each Kubo spent per 1,000.
Both boxes share this process and this machine's cores, which a pair of Pis would not.
``--gather S`` makes each box's outbox wait S seconds after a wake before pinning (bigger
batches, fewer Kubo calls); ``--defer-pinning`` holds it back 30 s, which shows how much
of the latency is the IPFS node pinning beside pubsub rather than the sync protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import aiohttp
from bench_common import CpuMeter, percentile_ms, scratch

from chatbox.adapters.ipfs import IpfsClient
from chatbox.config import Settings
from chatbox.daemon import Node
from chatbox.devstack import IpfsDaemon
from chatbox.services.accounts import Member
from chatbox.services.outbox import DEFAULT_OUTBOX_TIMING, OutboxTiming

POSTERS = 10


class Box:
    def __init__(self, scratch: Path, name: str, outbox: OutboxTiming, **settings: object) -> None:
        self.daemon = IpfsDaemon(scratch / f"{name}-ipfs")
        self.name = name
        self.scratch = scratch
        self.outbox = outbox
        self.settings = settings  # more of the node's settings (a chain, for instance)
        self.node: Node
        self.member: Member

    async def start(self) -> None:
        await asyncio.to_thread(self.daemon.start)
        settings = Settings(
            data_dir=self.scratch / self.name,
            ipfs_api=self.daemon.api_url,
            **self.settings,
        )
        self.node = Node(settings, password_cost=10, outbox_timing=self.outbox, anchor_poll=0.1)
        await self.node.start()
        self.member = await self.node.services.accounts.register(
            self.name, "bench password", is_admin=True
        )

    async def address(self) -> str:
        async with aiohttp.ClientSession() as session:
            return (await IpfsClient(session, self.daemon.api_url).identity()).addresses[0]

    async def count(self, channel_id: str) -> int:
        return await self.node.services.messages.message_count(channel_id)

    async def stop(self) -> None:
        await self.node.stop()
        await asyncio.to_thread(self.daemon.stop)


async def main(quick: bool, defer_pinning: bool, gather: float | None) -> None:
    outbox = OutboxTiming(gather=30.0) if defer_pinning else DEFAULT_OUTBOX_TIMING
    if gather is not None:
        outbox = OutboxTiming(gather=gather)
        print(f"the outbox gathers for {gather} s after each wake")
    if defer_pinning:
        print("pinning deferred by 30 s after each wake, to time sync without it")
    with scratch("sync-") as scratch_dir:
        a, b = Box(Path(scratch_dir), "box-a", outbox), Box(Path(scratch_dir), "box-b", outbox)
        await a.start()
        await b.start()
        try:
            await run(a, b, quick)
        finally:
            await b.stop()
            await a.stop()


async def run(a: Box, b: Box, quick: bool) -> None:
    agent = (await a.node.services.status.status())["ipfs"].get("agent")
    print(f"IPFS: {agent}; {os.cpu_count()} cores; Python {sys.version.split()[0]}")
    channel = await a.node.services.channels.create(a.member, "bench", "public")
    await b.node.services.channels.create(b.member, "bench", "public")
    await b.node.services.peers.add(await a.address())
    await wait_for(lambda: counts_at_least(b, channel.id, 0), 10)
    await warm_up(a, b, channel.id)

    await propagation(a, b, channel.id, 200 if quick else 1_000)
    await convergence(a, b, channel.id, 1_000 if quick else 10_000)
    await throughput(a, b, channel.id, 500 if quick else 2_000)


async def warm_up(a: Box, b: Box, channel_id: str) -> None:
    """Post until B has seen one live: gossipsub has then formed its mesh."""
    for number in range(100):
        await a.node.services.messages.post_text(a.member, channel_id, f"warm-up {number}")
        await asyncio.sleep(0.2)
        if await b.count(channel_id) > 0:
            return
    raise SystemExit("box B never received anything from box A; is pubsub working?")


async def propagation(a: Box, b: Box, channel_id: str, count: int) -> None:
    print(f"\n== propagation A -> B, {count} messages, one every 10 ms")
    arrived: dict[str, float] = {}
    done = asyncio.Event()

    async def watch() -> None:
        async for message in b.node.services.live.watch(channel_id, b.member.account_id, 1.0):
            if message is not None and (message.text or "").startswith("latency "):
                arrived[message.text] = time.perf_counter()
                if len(arrived) == count:
                    done.set()

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.2)
    started: dict[str, float] = {}
    cpu = meter(a, b).start()
    began = time.perf_counter()
    for number in range(count):
        text = f"latency {number}"
        started[text] = time.perf_counter()
        await a.node.services.messages.post_text(a.member, channel_id, text)
        await asyncio.sleep(0.01)
    rate = count / (time.perf_counter() - began)
    try:
        async with asyncio.timeout(60):
            await done.wait()
    except TimeoutError:
        pass
    watcher.cancel()
    latencies = [arrived[text] - started[text] for text in arrived]
    print(f"posted at {rate:.0f} messages/s (100/s asked); arrived live: {len(arrived)}/{count}")
    print(
        f"p50 {percentile_ms(latencies, count, 50)}, p99 {percentile_ms(latencies, count, 99)}, "
        f"max {percentile_ms(latencies, count, 100)} (targets: p50 <= 50 ms, p99 <= 250 ms)"
    )
    print(cpu.per_thousand(count))


async def convergence(a: Box, b: Box, channel_id: str, count: int) -> None:
    print(f"\n== convergence after a partition: {count} messages posted on A while B is cut off")
    await asyncio.to_thread(b.daemon.stop)
    started = time.perf_counter()
    await post_many(a, channel_id, count, "partition")
    print(f"posted on A in {time.perf_counter() - started:.1f} s")
    target = await a.count(channel_id)
    healed = time.perf_counter()
    await asyncio.to_thread(b.daemon.start)
    ready = time.perf_counter()
    cpu = meter(a, b).start()
    await wait_for(lambda: counts_at_least(b, channel_id, target), 300)
    held = time.perf_counter()
    await b.node.services.outbox.drained()
    pinned = time.perf_counter()
    print(
        f"B's IPFS back in {ready - healed:.1f} s; then B held all {target} entries after ", end=""
    )
    print(
        f"{held - ready:.1f} s (target <= 10 s), and had pinned them after {pinned - ready:.1f} s"
    )
    print(cpu.per_thousand(count))


async def throughput(a: Box, b: Box, channel_id: str, each: int) -> None:
    print(f"\n== both boxes posting at once, {each} messages each, {POSTERS} posters per box")
    before = await a.count(channel_id)
    cpu = meter(a, b).start()
    started = time.perf_counter()
    await asyncio.gather(post_many(a, channel_id, each, "a"), post_many(b, channel_id, each, "b"))
    posted = time.perf_counter()
    target = before + 2 * each
    await wait_for(lambda: counts_at_least(a, channel_id, target), 300)
    await wait_for(lambda: counts_at_least(b, channel_id, target), 300)
    synced = time.perf_counter()
    print(f"posted {2 * each} in {posted - started:.1f} s; both boxes held all after ", end="")
    print(
        f"{synced - started:.1f} s: {2 * each / (synced - started):.0f} messages/s across two boxes"
    )
    print(cpu.per_thousand(2 * each))


async def post_many(box: Box, channel_id: str, count: int, prefix: str) -> None:
    queue = iter(range(count))

    async def poster() -> None:
        for number in queue:
            await box.node.services.messages.post_text(box.member, channel_id, f"{prefix} {number}")

    await asyncio.gather(*(poster() for _ in range(POSTERS)))


async def counts_at_least(box: Box, channel_id: str, expected: int) -> bool:
    return await box.count(channel_id) >= expected


async def wait_for(check, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + timeout
    while not await check():
        if time.perf_counter() > deadline:
            raise SystemExit(f"gave up after {timeout:.0f} s")
        await asyncio.sleep(0.05)


def meter(a: Box, b: Box) -> CpuMeter:
    assert a.daemon.process is not None and b.daemon.process is not None
    return CpuMeter(
        {
            "both nodes": os.getpid(),
            "Kubo A": a.daemon.process.pid,
            "Kubo B": b.daemon.process.pid,
        }
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages, for a smoke run")
    parser.add_argument(
        "--gather", type=float, help="seconds the outbox waits after a wake before pinning"
    )
    parser.add_argument(
        "--defer-pinning",
        action="store_true",
        help="hold the outbox back 30 s, to separate sync from the IPFS node's pinning work",
    )
    args = parser.parse_args()
    asyncio.run(main(args.quick, args.defer_pinning, args.gather))
