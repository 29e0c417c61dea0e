"""Power-cut and outage behaviour: nothing acknowledged is lost, nothing is duplicated."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from chatbox.adapters.ipfs import IpfsClient
from chatbox.daemon import Node
from chatbox.devstack import IpfsDaemon
from chatbox.domain import content, envelope
from chatbox.domain.log import ChannelLog
from chatbox.errors import IpfsUnavailable
from tests.conftest import FAST_OUTBOX, node_settings, unpinned

pytestmark = pytest.mark.slow
POSTER = Path(__file__).with_name("burst_poster.py")
ACKS_BEFORE_KILL = 400


def _run_poster_until_killed(data_dir: Path, ipfs_api: str) -> tuple[str, dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, str(POSTER), str(data_dir), ipfs_api],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert process.stdout is not None
    channel, acked = "", {}
    try:
        for line in process.stdout:
            channel = _record(line, acked) or channel
            if len(acked) >= ACKS_BEFORE_KILL:
                break
    finally:
        os.kill(process.pid, signal.SIGKILL)  # a power cut, mid-burst
        process.wait()
        # Acknowledgements still in the pipe were given before the cut: they count too.
        # A line the cut broke off was never a whole acknowledgement.
        for line in process.stdout:
            if line.endswith("\n"):
                channel = _record(line, acked) or channel
        process.stdout.close()
    return channel, acked


def _record(line: str, acked: dict[str, str]) -> str:
    """Note one line of the poster; returns the channel id if the line names it."""
    kind, rest = line.rstrip("\n").split(" ", 1)
    if kind == "channel":
        return rest
    cid, text = rest.split(" ", 1)
    acked[cid] = text
    return ""


async def test_sigkill_mid_burst_loses_no_acknowledged_post(
    tmp_path: Path, ipfs_daemon: IpfsDaemon, ipfs: IpfsClient
) -> None:
    data_dir = tmp_path / "node"
    channel_id, acked = await asyncio.to_thread(
        _run_poster_until_killed, data_dir, ipfs_daemon.api_url
    )
    assert len(acked) >= ACKS_BEFORE_KILL

    with sqlite3.connect(data_dir / "chatbox.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    node = Node(
        node_settings(data_dir, ipfs_daemon.api_url), password_cost=10, outbox_timing=FAST_OUTBOX
    )
    await node.start()
    try:
        store = node.services.messages._log  # type: ignore[attr-defined]
        for cid, text in acked.items():
            record = await store.entry(cid)
            assert record is not None, f"acknowledged post {text!r} was lost"
            assert record.content is not None, f"the words of {text!r} were lost"
            assert content.parse(record.content) == {"text": text}, cid
        await asyncio.wait_for(node.services.outbox.drained(), 120)
        # The index agrees with the log: heads are exactly the unreferenced entries.
        records = await store.page(channel_id, None, 100_000)
        replica = ChannelLog(
            channel_id, [envelope.parse(await ipfs.get_block(r.cid), r.cid) for r in records]
        )
        assert replica.missing() == set()
        assert sorted(cid for cid, _ in await store.heads(channel_id)) == replica.heads()
        assert [r.cid for r in records] == [entry.cid for entry in replica.entries()]
        assert await unpinned(ipfs, list(acked)) == []
    finally:
        await node.stop()


async def test_ipfs_outage_posts_wait_then_land_once(tmp_path: Path) -> None:
    daemon = IpfsDaemon(tmp_path / "ipfs").start()
    node = Node(
        node_settings(tmp_path / "node", daemon.api_url),
        password_cost=10,
        outbox_timing=FAST_OUTBOX,
    )
    await node.start()
    try:
        member = await node.services.accounts.register("owner", "outage password")
        channel = await node.services.channels.create(member, "outage", "public")
        messages = node.services.messages
        posted = [await messages.post_text(member, channel.id, f"before {i}") for i in range(20)]
        await asyncio.wait_for(node.services.outbox.drained(), 60)

        await asyncio.to_thread(daemon.stop)
        posted += [await messages.post_text(member, channel.id, f"during {i}") for i in range(100)]
        status = await node.services.status.status()
        assert status["ipfs"]["online"] is False
        assert status["outbox"]["pending"] == 100
        with pytest.raises(IpfsUnavailable):
            await node.services.files.post_file(
                member, channel.id, "f.txt", None, _one_chunk(b"file during the outage")
            )

        await asyncio.to_thread(daemon.start)
        await asyncio.wait_for(node.services.outbox.drained(), 60)
        page = await messages.history(member, channel.id, None, 200)
        assert [m.cid for m in page.messages] == [m.cid for m in posted]
        assert len({m.cid for m in page.messages}) == 120
        assert all(m.pinned for m in page.messages)
        assert (await node.services.status.status())["outbox"] == {"pending": 0, "last_error": None}
    finally:
        await node.stop()
        daemon.stop()


async def _one_chunk(data: bytes):  # type: ignore[no-untyped-def]
    yield data
