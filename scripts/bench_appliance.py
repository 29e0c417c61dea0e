"""Benchmark of the node as the appliance runs it; prints figures, asserts nothing.

    .venv/bin/python scripts/bench_appliance.py [--idle-minutes N] [--load-seconds N]
                                                [--anchoring]

Starts a fresh Kubo (configured as a box's, with kubo.service's GOMEMLIMIT) and `chatbox
run` as its own process (mDNS on, as on the box), data on disk, then prints the memory of
the node (RSS, and USS: what it alone holds) and of Kubo idle and while 50 messages per
second are posted for 2 minutes, the CPU both spend per 1,000 of those messages, and the
node's writes at idle (SD-card wear): how many files in its data directory changed and
how many bytes and write calls reached the kernel, as rates per hour. Targets: node RSS at
most 80 MB idle and 150 MB under load.

The box keys are made before the node starts, as first boot makes them on the box (making
the chain key loads eth-account, which a node that does not anchor never needs again).
With --anchoring the node anchors on an anvil chain with the registry deployed, every
30 s, so the figures include web3 and anchoring rounds during the load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import aiohttp
import psutil
from bench_common import CpuMeter, scratch
from bench_memory_fit import unit_setting
from bench_web import spawn_node, wait_for

from chatbox.adapters import chain_account, keyfile
from chatbox.daemon import BOX_KEY_FILE, CHAIN_KEYSTORE_FILE
from chatbox.devstack import AnvilNode, IpfsDaemon, free_port, prepare_chain

RATE = 50  # messages per second under load
SETTLE_SECONDS = 20
ANCHOR_INTERVAL = 30  # seconds, with --anchoring
HISTORY = 200  # messages posted before the idle measurement


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--idle-minutes", type=float, default=10.0)
    parser.add_argument("--load-seconds", type=float, default=120.0)
    parser.add_argument("--anchoring", action="store_true", help="anchor on an anvil chain")
    args = parser.parse_args()
    with scratch("appliance-") as scratch_dir:
        data_dir = Path(scratch_dir) / "node"
        kubo = IpfsDaemon(
            Path(scratch_dir) / "ipfs", env={"GOMEMLIMIT": unit_setting("GOMEMLIMIT")}
        )
        daemon = await asyncio.to_thread(kubo.start)
        anvil = AnvilNode(Path(scratch_dir) / "anvil") if args.anchoring else None
        try:
            settings = await _make_box_keys(data_dir, anvil)
            assert daemon.process is not None
            await _measure(data_dir, daemon, settings, args)
        finally:
            if anvil:
                await asyncio.to_thread(anvil.stop)
            await asyncio.to_thread(daemon.stop)


async def _make_box_keys(data_dir: Path, anvil: AnvilNode | None) -> dict[str, str]:
    """Make the keys first boot makes; with a chain, fund the box and deploy the registry."""
    secrets = keyfile.load_or_create(data_dir / BOX_KEY_FILE)
    account = chain_account.load_or_create(data_dir / CHAIN_KEYSTORE_FILE, secrets.vault_key)
    if anvil is None:
        return {}
    await asyncio.to_thread(anvil.start)
    return {
        "CHATBOX_CHAIN_RPC_URL": anvil.rpc_url,
        "CHATBOX_CHAIN_ID": str(anvil.chain_id),
        "CHATBOX_REGISTRY_ADDRESS": await prepare_chain(anvil, account),
        "CHATBOX_ANCHOR_INTERVAL": str(ANCHOR_INTERVAL),
        "CHATBOX_ANCHOR_CONFIRMATIONS": "1",
    }


async def _measure(
    data_dir: Path, daemon: IpfsDaemon, settings: dict[str, str], args: argparse.Namespace
) -> None:
    port = free_port()
    node = await asyncio.to_thread(spawn_node, data_dir, daemon.api_url, port, settings)
    try:
        process = psutil.Process(node.pid)
        assert daemon.process is not None
        kubo = psutil.Process(daemon.process.pid)
        base = f"http://127.0.0.1:{port}"
        await wait_for(base)
        anchoring = f"anchoring every {ANCHOR_INTERVAL} s" if settings else "not anchoring"
        print(
            f"{os.cpu_count()} cores; Python {sys.version.split()[0]}; node pid {node.pid};"
            f" {anchoring}"
        )
        async with aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            channel, headers = await _set_up(http)
            # A box in use has history: its heads are announced every 30 s even when idle.
            for number in range(HISTORY):
                await _post(http, channel, headers, f"history {number}")
            await _settle(http, anchoring=bool(settings))
            await _idle(process, kubo, data_dir, args.idle_minutes * 60)
            await _load(http, channel, headers, process, kubo, args.load_seconds)
            if settings:
                await _print_anchoring(http)
    finally:
        node.terminate()
        node.wait(30)


async def _set_up(http: aiohttp.ClientSession) -> tuple[str, dict[str, str]]:
    reply = await http.post("/api/v1/setup", json={"name": "bench", "password": "bench password"})
    headers = {"X-CSRF-Token": (await reply.json())["csrf_token"]}
    created = await http.post(
        "/api/v1/channels", json={"name": "bench", "visibility": "public"}, headers=headers
    )
    return (await created.json())["id"], headers


async def _idle(
    process: psutil.Process, kubo: psutil.Process, data_dir: Path, seconds: float
) -> None:
    before_files = _mtimes(data_dir)
    before_io = process.io_counters()
    samples, kubo_rss = await _sample(process, kubo, seconds)
    after_io = process.io_counters()
    after_files = _mtimes(data_dir)
    changed = sorted(path for path, mtime in after_files.items() if before_files.get(path) != mtime)
    hours = seconds / 3600
    print(
        f"\nidle for {seconds / 60:.0f} min, {HISTORY} messages held"
        f" (once pinned, and anchored if anchoring, then {SETTLE_SECONDS} s):"
    )
    _print_memory(samples, kubo_rss, target=80)
    print(
        f"  files changed in the data directory: {len(changed)}"
        f" ({', '.join(path.name for path in changed) or 'none'})"
    )
    written = after_io.write_bytes - before_io.write_bytes
    calls = after_io.write_count - before_io.write_count
    # write_bytes is what reached the storage layer (SD-card wear); syscw counts write(2)
    # and pwrite(2) calls, so SQLite's and the logs' writes but not socket sends.
    print(
        f"  written to storage: {written / hours / 1024:.1f} KB/hour,"
        f" {calls / hours:.0f} write calls/hour"
    )


async def _load(
    http: aiohttp.ClientSession,
    channel: str,
    headers: dict[str, str],
    process: psutil.Process,
    kubo: psutil.Process,
    seconds: float,
) -> None:
    latencies: list[float] = []
    cpu = CpuMeter({"node": process.pid, "Kubo": kubo.pid}).start()

    async def post(number: int) -> None:
        started = time.perf_counter()
        await _post(http, channel, headers, f"load {number}")
        latencies.append(time.perf_counter() - started)

    async def poster() -> None:
        started = time.perf_counter()
        tasks = []
        for number in range(int(seconds * RATE)):
            await asyncio.sleep(max(0.0, started + number / RATE - time.perf_counter()))
            tasks.append(asyncio.create_task(post(number)))
        await asyncio.gather(*tasks)

    sampler = asyncio.create_task(_sample(process, kubo, seconds + 5))
    await poster()
    samples, kubo_rss = await sampler
    latencies.sort()
    print(f"\n{RATE} messages/s for {seconds:.0f} s ({len(latencies)} posts):")
    _print_memory(samples, kubo_rss, target=150)
    print(f"  {cpu.per_thousand(len(latencies))}")
    print(
        f"  post latency p50 {statistics.median(latencies) * 1000:.1f} ms,"
        f" p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f} ms"
    )


async def _settle(http: aiohttp.ClientSession, anchoring: bool) -> None:
    """Let the history be pinned (and anchored) first, so idle means nothing left to do."""
    while True:
        async with http.get("/api/v1/status") as response:
            if (await response.json())["outbox"]["pending"] == 0:
                break
        await asyncio.sleep(1)
    # Two intervals: the batch of the history is made, sent and confirmed within them.
    await asyncio.sleep(SETTLE_SECONDS + (2 * ANCHOR_INTERVAL if anchoring else 0))


async def _post(
    http: aiohttp.ClientSession, channel: str, headers: dict[str, str], label: str
) -> None:
    async with http.post(
        f"/api/v1/channels/{channel}/messages",
        json={"text": f"{label}: the quick brown fox jumps over the lazy dog"},
        headers=headers,
    ) as response:
        assert response.status == 201, await response.text()


async def _print_anchoring(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/v1/status") as response:
        chain = (await response.json())["chain"]
    print(
        f"  anchoring: {chain['confirmed_transactions']} transactions confirmed,"
        f" {chain['pending_transactions']} pending, last error {chain['last_error']}"
    )


async def _sample(
    process: psutil.Process, kubo: psutil.Process, seconds: float
) -> tuple[list[tuple[float, float]], list[float]]:
    """The node's (RSS, USS) and Kubo's RSS in MB, once a second."""
    samples, kubo_rss = [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        memory = process.memory_full_info()
        samples.append((memory.rss / 2**20, memory.uss / 2**20))
        kubo_rss.append(kubo.memory_info().rss / 2**20)
        await asyncio.sleep(1)
    return samples, kubo_rss


def _print_memory(samples: list[tuple[float, float]], kubo_rss: list[float], target: int) -> None:
    rss = [sample[0] for sample in samples]
    uss = [sample[1] for sample in samples]
    print(
        f"  node RSS mean {statistics.mean(rss):.1f} MB, max {max(rss):.1f} MB"
        f" (target {target} MB); USS mean {statistics.mean(uss):.1f} MB, max {max(uss):.1f} MB"
    )
    print(f"  Kubo RSS mean {statistics.mean(kubo_rss):.1f} MB, max {max(kubo_rss):.1f} MB")


def _mtimes(directory: Path) -> dict[Path, int]:
    return {path: path.stat().st_mtime_ns for path in directory.rglob("*") if path.is_file()}


if __name__ == "__main__":
    asyncio.run(main())
