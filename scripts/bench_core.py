"""Benchmark of the node core on the development stack; prints figures, asserts nothing.

    .venv/bin/python scripts/bench_core.py [--quick]

Starts a fresh Kubo (configured as a box's) and a node in this process, with their data
on disk, then measures: posts acknowledged per second (signed, indexed, durable in
SQLite) and the rate at which they end up pinned on IPFS, for 1,000 and 10,000
messages, with the CPU seconds the node and Kubo spent per 1,000; the latency of one
post; the node's peak RSS; and RSS growth while streaming a 200 MB file in.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import psutil
from bench_common import CpuMeter, random_chunks, scratch

from chatbox.config import Settings
from chatbox.daemon import Node
from chatbox.devstack import IpfsDaemon
from chatbox.services.accounts import Member

CLIENTS = 20
FILE_CHUNK = 256 * 1024
PINNED_TARGET = 1_000  # messages/s pinned end to end
NODE_CPU_TARGET = 1.0  # node CPU seconds per 1,000 posted messages


async def main(quick: bool) -> None:
    with scratch("core-") as scratch_dir:
        daemon = await asyncio.to_thread(IpfsDaemon(Path(scratch_dir) / "ipfs").start)
        node = Node(
            Settings(
                data_dir=Path(scratch_dir) / "node",
                ipfs_api=daemon.api_url,
                upload_limit=300 * 1024 * 1024,
            )
        )
        await node.start()
        try:
            await run_benchmarks(node, daemon, quick)
        finally:
            await node.stop()
            await asyncio.to_thread(daemon.stop)


async def run_benchmarks(node: Node, daemon: IpfsDaemon, quick: bool) -> None:
    member = await node.services.accounts.register("bench", "benchmark password")
    print(
        f"IPFS: {(await node.services.status.status())['ipfs'].get('agent')}; "
        f"{os.cpu_count()} cores; Python {sys.version.split()[0]}"
    )
    print("\n== posting (each post signed, indexed and durable in SQLite when acknowledged)")
    for count in (1_000,) if quick else (1_000, 10_000):
        await bench_throughput(node, member, count, daemon)
    await bench_latency(node, member, 200 if quick else 1_000)
    print("\n== memory")
    print(
        f"node peak RSS so far: {_peak_rss_mb():.1f} MB; "
        f"IPFS daemon RSS: {_rss_mb(daemon.process.pid if daemon.process else 0):.1f} MB"
    )
    size = (50 if quick else 200) * 1024 * 1024
    for visibility in ("public", "private"):
        await bench_file_stream(node, member, size, visibility)
    print(f"node peak RSS at the end: {_peak_rss_mb():.1f} MB")


async def bench_throughput(node: Node, member: Member, count: int, daemon: IpfsDaemon) -> None:
    channel = await node.services.channels.create(member, f"load {count}", "public")
    messages = node.services.messages
    per_client = count // CLIENTS
    latencies: list[float] = []

    async def client(number: int) -> None:
        for i in range(per_client):
            started = time.perf_counter()
            await messages.post_text(member, channel.id, f"client {number} message {i}")
            latencies.append(time.perf_counter() - started)

    assert daemon.process is not None
    cpu = CpuMeter({"node": os.getpid(), "Kubo": daemon.process.pid}).start()
    started = time.perf_counter()
    await asyncio.gather(*(client(number) for number in range(CLIENTS)))
    acknowledged = time.perf_counter() - started
    await node.services.outbox.drained()
    pinned = time.perf_counter() - started
    node_cpu = cpu.spent()["node"] * 1000 / count
    print(
        f"{count:>6} messages, {CLIENTS} concurrent clients: "
        f"{count / acknowledged:7.0f} acknowledged/s ({acknowledged:.2f} s); "
        f"all pinned on IPFS after {pinned:.2f} s = {count / pinned:5.0f} pinned/s "
        f"(target >= {PINNED_TARGET}); "
        f"post latency p50 {_ms(latencies, 50)} p99 {_ms(latencies, 99)}\n"
        f"        {cpu.per_thousand(count)} (node target <= {NODE_CPU_TARGET:.1f} s: "
        f"{'met' if node_cpu <= NODE_CPU_TARGET else 'missed'})"
    )


async def bench_latency(node: Node, member: Member, count: int) -> None:
    channel = await node.services.channels.create(member, "latency", "public")
    latencies = []
    for i in range(count):
        started = time.perf_counter()
        await node.services.messages.post_text(member, channel.id, f"one at a time {i}")
        latencies.append(time.perf_counter() - started)
    await node.services.outbox.drained()
    print(
        f"one post at a time ({count}): p50 {_ms(latencies, 50)}, p99 {_ms(latencies, 99)}, "
        f"max {max(latencies) * 1000:.1f} ms"
    )


async def bench_file_stream(node: Node, member: Member, size: int, visibility: str) -> None:
    channel = await node.services.channels.create(member, f"files {visibility}", visibility)
    baseline = _rss_mb(os.getpid())
    peak = baseline
    sampling = True

    async def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, _rss_mb(os.getpid()))
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    message = await node.services.files.post_file(
        member, channel.id, "big.bin", None, random_chunks(size, FILE_CHUNK)
    )
    elapsed = time.perf_counter() - started
    sampling = False
    await sampler
    assert message.file is not None and message.file["size"] == size
    print(
        f"streamed a {size / 2**20:.0f} MB file into a {visibility} channel in "
        f"{elapsed:.1f} s ({size / 2**20 / elapsed:.1f} MB/s): RSS {baseline:.1f} MB before, "
        f"{peak:.1f} MB at most, growth {peak - baseline:.1f} MB"
    )


def _ms(values: list[float], percentile: int) -> str:
    cut = statistics.quantiles(values, n=100, method="inclusive")[percentile - 1]
    return f"{cut * 1000:.1f} ms"


def _rss_mb(pid: int) -> float:
    try:
        return float(psutil.Process(pid).memory_info().rss) / 2**20
    except psutil.Error:
        return 0.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    asyncio.run(main(parser.parse_args().quick))
