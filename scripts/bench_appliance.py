"""Benchmark of the node as the appliance runs it; prints figures, asserts nothing.

    .venv/bin/python scripts/bench_appliance.py [--idle-minutes N] [--load-seconds N]

Starts a fresh IPFS daemon and `chatbox run` as its own process (mDNS on, as on the box),
then prints the node's memory (RSS, and USS: what it alone holds) idle and while 50
messages per second are posted for 2 minutes, and its writes at idle (SD-card wear): how
many files in its data directory changed and how many bytes and write calls reached the
kernel, as rates per hour. Targets: RSS at most 80 MB idle and 150 MB under load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil
from bench_web import spawn_node, wait_for

from chatbox.devstack import IpfsDaemon, free_port

RATE = 50  # messages per second under load
SETTLE_SECONDS = 20


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--idle-minutes", type=float, default=10.0)
    parser.add_argument("--load-seconds", type=float, default=120.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chatbox-bench-appliance-") as scratch:
        data_dir = Path(scratch) / "node"
        daemon = await asyncio.to_thread(IpfsDaemon(Path(scratch) / "ipfs").start)
        port = free_port()
        node = await asyncio.to_thread(spawn_node, data_dir, daemon.api_url, port)
        try:
            process = psutil.Process(node.pid)
            base = f"http://127.0.0.1:{port}"
            await wait_for(base)
            print(f"{os.cpu_count()} cores; Python {sys.version.split()[0]}; node pid {node.pid}")
            async with aiohttp.ClientSession(
                base, cookie_jar=aiohttp.CookieJar(unsafe=True)
            ) as http:
                channel, headers = await _set_up(http)
                await asyncio.sleep(SETTLE_SECONDS)
                await _idle(process, data_dir, args.idle_minutes * 60)
                await _load(http, channel, headers, process, args.load_seconds)
        finally:
            node.terminate()
            node.wait(30)
            await asyncio.to_thread(daemon.stop)


async def _set_up(http: aiohttp.ClientSession) -> tuple[str, dict[str, str]]:
    reply = await http.post("/api/v1/setup", json={"name": "bench", "password": "bench password"})
    headers = {"X-CSRF-Token": (await reply.json())["csrf_token"]}
    created = await http.post(
        "/api/v1/channels", json={"name": "bench", "visibility": "public"}, headers=headers
    )
    return (await created.json())["id"], headers


async def _idle(process: psutil.Process, data_dir: Path, seconds: float) -> None:
    before_files = _mtimes(data_dir)
    before_io = process.io_counters()
    samples = await _sample(process, seconds)
    after_io = process.io_counters()
    after_files = _mtimes(data_dir)
    changed = sorted(path for path, mtime in after_files.items() if before_files.get(path) != mtime)
    hours = seconds / 3600
    print(f"\nidle for {seconds / 60:.0f} min (after {SETTLE_SECONDS} s to settle):")
    _print_memory(samples, target=80)
    print(
        f"  files changed in the data directory: {len(changed)}"
        f" ({', '.join(path.name for path in changed) or 'none'})"
    )
    written = after_io.write_bytes - before_io.write_bytes
    calls = after_io.write_count - before_io.write_count
    print(
        f"  written to disk: {written / hours / 1024:.1f} KB/hour,"
        f" {calls / hours:.0f} write calls/hour (all files and sockets)"
    )


async def _load(
    http: aiohttp.ClientSession,
    channel: str,
    headers: dict[str, str],
    process: psutil.Process,
    seconds: float,
) -> None:
    latencies: list[float] = []

    async def post(number: int) -> None:
        started = time.perf_counter()
        async with http.post(
            f"/api/v1/channels/{channel}/messages",
            json={"text": f"load {number}: the quick brown fox jumps over the lazy dog"},
            headers=headers,
        ) as response:
            assert response.status == 201, await response.text()
        latencies.append(time.perf_counter() - started)

    async def poster() -> None:
        started = time.perf_counter()
        tasks = []
        for number in range(int(seconds * RATE)):
            await asyncio.sleep(max(0.0, started + number / RATE - time.perf_counter()))
            tasks.append(asyncio.create_task(post(number)))
        await asyncio.gather(*tasks)

    sampler = asyncio.create_task(_sample(process, seconds + 5))
    await poster()
    samples = await sampler
    latencies.sort()
    print(f"\n{RATE} messages/s for {seconds:.0f} s ({len(latencies)} posts):")
    _print_memory(samples, target=150)
    print(
        f"  post latency p50 {statistics.median(latencies) * 1000:.1f} ms,"
        f" p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f} ms"
    )


async def _sample(process: psutil.Process, seconds: float) -> list[tuple[float, float]]:
    """(RSS, USS) in MB, once a second."""
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        memory = process.memory_full_info()
        samples.append((memory.rss / 2**20, memory.uss / 2**20))
        await asyncio.sleep(1)
    return samples


def _print_memory(samples: list[tuple[float, float]], target: int) -> None:
    rss = [sample[0] for sample in samples]
    uss = [sample[1] for sample in samples]
    print(
        f"  RSS mean {statistics.mean(rss):.1f} MB, max {max(rss):.1f} MB (target {target} MB);"
        f" USS mean {statistics.mean(uss):.1f} MB, max {max(uss):.1f} MB"
    )


def _mtimes(directory: Path) -> dict[Path, int]:
    return {path: path.stat().st_mtime_ns for path in directory.rglob("*") if path.is_file()}


if __name__ == "__main__":
    asyncio.run(main())
