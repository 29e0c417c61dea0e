"""Does the box fit a Raspberry Pi Zero 2 W? The node and Kubo in a 512 MB box's memory.

    sudo .venv/bin/python scripts/bench_memory_fit.py [--minutes 30] [--limit-mb 384]

Runs Kubo and `chatbox run` of box A inside a memory cgroup (cgroup v1, under
/sys/fs/cgroup/memory) of what a 512 MB Pi leaves them once the OS has its share, with
Kubo in a child group capped as kubo.service caps it (MemoryMax, GOMEMLIMIT taken from the
unit file). Box B, outside the group, holds a channel of 10,000 messages. For the whole
run A takes 50 messages a second through its API; after a minute A's owner adds B and
joins its channel (a 10,000-entry sync), and after two a 200 MB file is uploaded to A.
Prints, from samples once a second, the peak and steady (median of the last half) RSS of
A's node and Kubo, the group's memory.max_usage_in_bytes and memory.failcnt, and OOM
kills, which must be 0. Run by hand as root; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import time
from pathlib import Path

import aiohttp
import psutil
from bench_common import CpuMeter, random_chunks, scratch
from bench_web import spawn_node, wait_for

from chatbox.adapters.ipfs import IpfsClient
from chatbox.devstack import IpfsDaemon, free_port

CGROUP_ROOT = Path("/sys/fs/cgroup/memory")
KUBO_UNIT = Path(__file__).resolve().parents[1] / "systemd/kubo.service"
RATE = 50  # messages per second on A, the appliance benchmark's load
HISTORY = 10_000  # entries B holds and A syncs
UPLOAD = 200 * 2**20
CHUNK = 256 * 1024
PASSWORD = "bench password"


class Group:
    """A cgroup v1 memory group; processes join it by pid."""

    def __init__(self, path: Path, limit: int, soft_limit: int | None = None) -> None:
        self.path = path
        path.mkdir()
        (path / "memory.limit_in_bytes").write_text(str(limit))
        if soft_limit:
            (path / "memory.soft_limit_in_bytes").write_text(str(soft_limit))

    def enter(self) -> None:
        """Move this process in, so that what it starts next is born in the group."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    @staticmethod
    def leave() -> None:
        (CGROUP_ROOT / "cgroup.procs").write_text(str(os.getpid()))

    def read(self, name: str) -> int:
        return int((self.path / name).read_text().split()[0])

    def oom_kills(self) -> int:
        fields = dict(
            line.split() for line in (self.path / "memory.oom_control").read_text().splitlines()
        )
        return int(fields.get("oom_kill", 0))

    def remove(self) -> None:
        for pid in (self.path / "cgroup.procs").read_text().split():
            (self.path.parent / "cgroup.procs").write_text(pid)
        self.path.rmdir()


def unit_setting(name: str) -> str:
    """A setting of kubo.service: ``GOMEMLIMIT`` (from Environment=), ``MemoryMax``, ..."""
    text = KUBO_UNIT.read_text()
    match = re.search(rf"^(?:Environment={name}=|{name}=)(\S+)$", text, re.M)
    if match is None:
        raise SystemExit(f"{KUBO_UNIT} sets no {name}")
    return match.group(1)


def systemd_bytes(value: str) -> int:
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    return int(value[:-1]) * units[value[-1]] if value[-1] in units else int(value)


async def main(minutes: float, limit_mb: int) -> None:
    box = Group(CGROUP_ROOT / f"chatbox-fit-{os.getpid()}", limit_mb * 2**20)
    (box.path / "memory.use_hierarchy").write_text("1")
    kubo_group = Group(
        box.path / "kubo",
        systemd_bytes(unit_setting("MemoryMax")),
        systemd_bytes(unit_setting("MemoryHigh")),
    )
    node_group = Group(box.path / "node", limit_mb * 2**20)
    gomemlimit = unit_setting("GOMEMLIMIT")
    print(
        f"group {limit_mb} MB for both; Kubo capped as kubo.service: MemoryMax "
        f"{unit_setting('MemoryMax')}, MemoryHigh {unit_setting('MemoryHigh')}, "
        f"GOMEMLIMIT {gomemlimit}"
    )
    try:
        with scratch("memory-fit-") as scratch_dir:
            await run(Path(scratch_dir), box, kubo_group, node_group, gomemlimit, minutes)
    finally:
        for group in (kubo_group, node_group, box):
            try:
                group.remove()
            except OSError as exc:
                print(f"could not remove {group.path}: {exc}")


async def run(
    root: Path, box: Group, kubo_group: Group, node_group: Group, gomemlimit: str, minutes: float
) -> None:
    kubo_a = IpfsDaemon(root / "a-ipfs", env={"GOMEMLIMIT": gomemlimit})
    kubo_b = IpfsDaemon(root / "b-ipfs")
    port_a, port_b = free_port(), free_port()
    big = {"CHATBOX_UPLOAD_LIMIT": str(UPLOAD + 2**20)}
    # Born in their groups, so that every page they ever touch is charged there.
    kubo_group.enter()
    kubo_a.start()
    node_group.enter()
    node_a = spawn_node(root / "a", kubo_a.api_url, port_a, big)
    Group.leave()
    kubo_b.start()
    node_b = spawn_node(root / "b", kubo_b.api_url, port_b)
    assert kubo_a.process is not None
    processes = {"node": psutil.Process(node_a.pid), "Kubo": psutil.Process(kubo_a.process.pid)}
    try:
        await wait_for(f"http://127.0.0.1:{port_a}")
        await wait_for(f"http://127.0.0.1:{port_b}")
        async with (
            Person(f"http://127.0.0.1:{port_a}") as ada,
            Person(f"http://127.0.0.1:{port_b}") as bo,
        ):
            history = await bo.start_channel("history")
            started = time.perf_counter()
            await bo.post_many(history, HISTORY, "history")
            print(f"B holds {HISTORY} messages ({time.perf_counter() - started:.0f} s to post)")
            b_address = await first_address(kubo_b.api_url)
            load = await ada.start_channel("load")
            cpu = CpuMeter({name: process.pid for name, process in processes.items()}).start()
            sampler = asyncio.create_task(sample(processes, box, minutes * 60))
            events = asyncio.create_task(extra_work(ada, b_address, history))
            posted = await ada.post_at_rate(load, RATE, minutes * 60)
            samples = await sampler
            await events
            report(samples, box, kubo_group, posted, cpu, processes)
    finally:
        for process in (node_a, node_b):
            process.terminate()
            process.wait(30)
        await asyncio.to_thread(kubo_b.stop)
        await asyncio.to_thread(kubo_a.stop)


async def extra_work(ada: Person, b_address: str, history: str) -> None:
    await asyncio.sleep(60)
    started = time.perf_counter()
    await ada.call("POST", "/api/v1/peers", {"multiaddr": b_address})
    await ada.call("POST", "/api/v1/channels", {"name": "history", "visibility": "public"})
    # Polling the box's API, as a person watching the channel fill would.
    while await ada.unread(history) < HISTORY:  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    print(f"A synced B's {HISTORY} messages in {time.perf_counter() - started:.1f} s")
    await asyncio.sleep(max(0.0, 60 - (time.perf_counter() - started)))
    started = time.perf_counter()
    await ada.upload(history, UPLOAD)
    print(f"A took a {UPLOAD // 2**20} MB upload in {time.perf_counter() - started:.1f} s")


async def sample(
    processes: dict[str, psutil.Process], box: Group, seconds: float
) -> list[dict[str, float]]:
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        row = {name: process.memory_info().rss / 2**20 for name, process in processes.items()}
        row["group"] = box.read("memory.usage_in_bytes") / 2**20
        # The group's usage counts page cache too (the kernel reclaims it under the limit).
        stat = dict(line.split() for line in (box.path / "memory.stat").read_text().splitlines())
        row["group rss"] = int(stat["total_rss"]) / 2**20
        row["group cache"] = int(stat["total_cache"]) / 2**20
        samples.append(row)
        await asyncio.sleep(1)
    return samples


def report(
    samples: list[dict[str, float]],
    box: Group,
    kubo_group: Group,
    posted: int,
    cpu: CpuMeter,
    processes: dict[str, psutil.Process],
) -> None:
    steady = samples[len(samples) // 2 :]
    print(f"\n{len(samples)} s sampled, {posted} messages posted on A")
    for name in ("node", "Kubo", "group", "group rss", "group cache"):
        print(
            f"  {name:11}: peak {max(s[name] for s in samples):6.1f} MB, "
            f"steady {statistics.median(s[name] for s in steady):6.1f} MB"
        )
    print(
        f"  group memory.max_usage_in_bytes {box.read('memory.max_usage_in_bytes') / 2**20:.1f} MB,"
        f" memory.failcnt {box.read('memory.failcnt')};"
        f" Kubo's group max {kubo_group.read('memory.max_usage_in_bytes') / 2**20:.1f} MB,"
        f" failcnt {kubo_group.read('memory.failcnt')}"
    )
    alive = all(process.is_running() for process in processes.values())
    print(
        f"  OOM kills: group {box.oom_kills()}, Kubo's group {kubo_group.oom_kills()};"
        f" both processes {'still running' if alive else 'NOT all running'}"
    )
    print(f"  {cpu.per_thousand(posted)}")


async def first_address(api_url: str) -> str:
    async with aiohttp.ClientSession() as session:
        return (await IpfsClient(session, api_url).identity()).addresses[0]


class Person:
    """An admin's browser session on one box, over its JSON API."""

    def __init__(self, base: str) -> None:
        self._http = aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True))
        self._headers: dict[str, str] = {}

    async def __aenter__(self) -> Person:
        reply = await self.call("POST", "/api/v1/setup", {"name": "owner", "password": PASSWORD})
        self._headers = {"X-CSRF-Token": reply["csrf_token"]}
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.close()

    async def call(self, method: str, path: str, body: object = None) -> dict[str, object]:
        async with self._http.request(method, path, json=body, headers=self._headers) as reply:
            answer = await reply.json()
            if reply.status >= 400:
                raise SystemExit(f"{method} {path}: {reply.status} {answer}")
            return dict(answer)

    async def start_channel(self, name: str) -> str:
        reply = await self.call("POST", "/api/v1/channels", {"name": name, "visibility": "public"})
        return str(reply["id"])

    async def unread(self, channel: str) -> int:
        """Messages of others in ``channel`` this person has not read: all of B's, here."""
        joined = await self.call("GET", "/api/v1/channels")
        listed = joined["channels"]
        assert isinstance(listed, list)
        return sum(int(c["unread"]) for c in listed if c["id"] == channel)

    async def post_many(self, channel: str, count: int, label: str) -> None:
        numbers = iter(range(count))

        async def poster() -> None:
            for number in numbers:
                await self.call(
                    "POST", f"/api/v1/channels/{channel}/messages", {"text": f"{label} {number}"}
                )

        await asyncio.gather(*(poster() for _ in range(10)))

    async def post_at_rate(self, channel: str, rate: int, seconds: float) -> int:
        started = time.perf_counter()
        tasks = []
        for number in range(int(seconds * rate)):
            await asyncio.sleep(max(0.0, started + number / rate - time.perf_counter()))
            text = {"text": f"load {number}: the quick brown fox jumps over the lazy dog"}
            tasks.append(
                asyncio.create_task(self.call("POST", f"/api/v1/channels/{channel}/messages", text))
            )
        await asyncio.gather(*tasks)
        return len(tasks)

    async def upload(self, channel: str, size: int) -> None:
        with aiohttp.MultipartWriter("form-data") as form:
            part = form.append(
                random_chunks(size, CHUNK), {"Content-Type": "application/octet-stream"}
            )
            part.set_content_disposition("form-data", name="file", filename="big.bin")
            async with self._http.post(
                f"/api/v1/channels/{channel}/files", data=form, headers=self._headers
            ) as reply:
                if reply.status != 201:
                    raise SystemExit(f"upload: {reply.status} {await reply.text()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--limit-mb", type=int, default=384, help="the group's memory limit")
    args = parser.parse_args()
    if os.geteuid() != 0 or not CGROUP_ROOT.is_dir():
        raise SystemExit("needs root and the cgroup v1 memory controller at /sys/fs/cgroup/memory")
    asyncio.run(main(args.minutes, args.limit_mb))
