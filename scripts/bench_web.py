"""Benchmark of the web face over real HTTP; prints figures, asserts nothing.

    .venv/bin/python scripts/bench_web.py

Starts a fresh Kubo (configured as a box's) and `chatbox run` as its own process, data on
disk, then measures: messages per second posted through the JSON API by 20 concurrent
clients; latency from POST to arrival at each of 50 connected live-stream (SSE) clients,
over every delivery expected (one that never came is a failure, not a missing sample);
bytes of a cold load of the channel page; the node's RSS with 50 clients connected; and
for both the CPU seconds the node and Kubo spent per 1,000 messages.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import psutil
from bench_common import CpuMeter, percentile_ms, scratch

from chatbox.devstack import IpfsDaemon, free_port

POSTERS = 20
POSTS = 1_000
WATCHERS = 50
TIMED_POSTS = 200


async def main() -> None:
    with scratch("web-") as scratch_dir:
        daemon = await asyncio.to_thread(IpfsDaemon(Path(scratch_dir) / "ipfs").start)
        port = free_port()
        node = await asyncio.to_thread(spawn_node, Path(scratch_dir) / "node", daemon.api_url, port)
        assert daemon.process is not None
        cpu = CpuMeter({"node": node.pid, "Kubo": daemon.process.pid})
        try:
            await run(f"http://127.0.0.1:{port}", psutil.Process(node.pid), cpu)
        finally:
            node.terminate()
            node.wait(30)
            await asyncio.to_thread(daemon.stop)


async def run(base: str, node: psutil.Process, cpu: CpuMeter) -> None:
    await wait_for(base)
    jar = aiohttp.CookieJar(unsafe=True)  # keep the cookie of a bare IP address
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(base, cookie_jar=jar, connector=connector) as http:
        reply = await http.post(
            "/api/v1/setup", json={"name": "bench", "password": "bench password"}
        )
        headers = {"X-CSRF-Token": (await reply.json())["csrf_token"]}
        created = await http.post(
            "/api/v1/channels", json={"name": "bench", "visibility": "public"}, headers=headers
        )
        channel = (await created.json())["id"]
        print(f"{os.cpu_count()} cores; Python {sys.version.split()[0]}; node pid {node.pid}\n")
        cpu.start()
        await _throughput(http, channel, headers)
        print(f"        {cpu.per_thousand(POSTS)}")
        await _cold_page(http, channel)
        cpu.start()
        await _fan_out(http, channel, headers, node)
        print(f"        {cpu.per_thousand(TIMED_POSTS)} (each delivered to {WATCHERS})")


async def _throughput(http: aiohttp.ClientSession, channel: str, headers: dict[str, str]) -> None:
    counter = iter(range(POSTS))

    async def poster() -> None:
        for number in counter:
            async with http.post(
                f"/api/v1/channels/{channel}/messages", json={"text": f"m{number}"}, headers=headers
            ) as response:
                assert response.status == 201

    started = time.perf_counter()
    await asyncio.gather(*(poster() for _ in range(POSTERS)))
    elapsed = time.perf_counter() - started
    print(
        f"posted through the API, {POSTERS} clients: {POSTS / elapsed:7.0f} messages/s"
        f" ({POSTS} in {elapsed:.2f} s; target >= 200)"
    )


async def _cold_page(http: aiohttp.ClientSession, channel: str) -> None:
    total = 0
    async with http.get(f"/chat/{channel}") as page:
        html = await page.read()
        total += len(html)
    for asset in ("/static/app.js", "/static/style.css"):
        async with http.get(asset) as response:
            total += len(await response.read())
    print(
        f"cold load of the channel page (HTML, 50 messages, script, styles): {total / 1024:.1f} KB"
    )


async def _fan_out(
    http: aiohttp.ClientSession, channel: str, headers: dict[str, str], node: psutil.Process
) -> None:
    arrivals: dict[str, list[float]] = {}
    ready = asyncio.Event()
    connected = 0

    async def watcher() -> None:
        nonlocal connected
        async with http.get(
            f"/api/v1/channels/{channel}/events", timeout=aiohttp.ClientTimeout(total=None)
        ) as stream:
            await stream.content.readuntil(b"\n\n")
            connected += 1
            if connected == WATCHERS:
                ready.set()
            while True:
                block = (await stream.content.readuntil(b"\n\n")).decode()
                if "event: message" in block:
                    data = json.loads(block.split("data: ", 1)[1])
                    arrivals.setdefault(data["text"], []).append(time.perf_counter())

    watchers = [asyncio.create_task(watcher()) for _ in range(WATCHERS)]
    await asyncio.wait_for(ready.wait(), 30)
    rss = node.memory_info().rss / 2**20
    sent: dict[str, float] = {}
    started = time.perf_counter()
    for number in range(TIMED_POSTS):
        text = f"timed {number}"
        sent[text] = time.perf_counter()
        async with http.post(
            f"/api/v1/channels/{channel}/messages", json={"text": text}, headers=headers
        ) as response:
            assert response.status == 201
        await asyncio.sleep(0.02)
    rate = TIMED_POSTS / (time.perf_counter() - started)
    await asyncio.sleep(1.0)
    peak = node.memory_info().rss / 2**20
    for task in watchers:
        task.cancel()
    latencies = [arrival - sent[text] for text, times in arrivals.items() for arrival in times]
    expected = TIMED_POSTS * WATCHERS
    print(
        f"POST to arrival at {WATCHERS} live clients, {rate:.0f} posts/s (50/s asked): "
        f"{len(latencies)}/{expected} deliveries, p50 {percentile_ms(latencies, expected, 50)}, "
        f"p99 {percentile_ms(latencies, expected, 99)} (target <= 100 ms)"
    )
    print(
        f"node RSS with {WATCHERS} live clients connected: {rss:.1f} MB"
        f" (after {TIMED_POSTS} posts: {peak:.1f} MB)"
    )


def spawn_node(
    data_dir: Path, ipfs_api: str, port: int, settings: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`chatbox run` on 127.0.0.1:``port`` (also used by bench_appliance).

    ``settings`` are further ``CHATBOX_*`` variables.
    """
    env = {
        **os.environ,
        "CHATBOX_DATA_DIR": str(data_dir),
        "CHATBOX_HTTP_PORT": str(port),
        "CHATBOX_HTTP_HOST": "127.0.0.1",
        "CHATBOX_IPFS_API": ipfs_api,
        **(settings or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "chatbox", "--config", "/nonexistent", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_for(base: str) -> None:
    """Wait until the node at ``base`` answers /healthz (also used by bench_appliance)."""
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(base + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the node did not start")


if __name__ == "__main__":
    asyncio.run(main())
