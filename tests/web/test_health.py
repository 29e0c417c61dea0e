"""/healthz means the node can still store posts, and systemd's watchdog hears only that."""

from __future__ import annotations

import asyncio
import socket
import tempfile
from pathlib import Path

import aiohttp
import pytest

from chatbox.adapters.systemd_notify import SystemdNotifier
from chatbox.daemon import Node, feed_watchdog
from tests.web.conftest import assert_error_shape

# The writer thread's end is reported by the thread itself, as it is meant to be.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")


def _stop_the_writer_thread(node: Node) -> None:
    """What an error no write expected does: the SQLite writer thread ends."""

    def fatal(connection: object) -> None:
        raise SystemExit("the writer thread ends here")

    node.services.messages._log.database.submit(fatal)  # type: ignore[attr-defined]


async def test_health_fails_once_the_database_writer_died(served: str, node: Node) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(served + "/healthz") as healthy:
            assert healthy.status == 200
        _stop_the_writer_thread(node)
        await asyncio.sleep(0.2)
        async with http.get(served + "/healthz") as failing:
            assert failing.status == 503
            body = await failing.json()
    assert_error_shape(body)
    assert body["error"] == "the database writer has stopped"


async def test_the_watchdog_stops_being_fed_when_health_fails(served: str, node: Node) -> None:
    with (
        tempfile.TemporaryDirectory(dir="/tmp") as short,
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd,
    ):
        address = str(Path(short) / "notify")
        systemd.bind(address)
        systemd.setblocking(False)
        notifier = SystemdNotifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "200000"})
        watchdog = asyncio.create_task(feed_watchdog(notifier, served, 0.1))
        try:
            await asyncio.sleep(0.5)
            assert _pings(systemd) >= 3
            _stop_the_writer_thread(node)
            await asyncio.sleep(0.3)
            _pings(systemd)  # any fed before the health check saw it
            await asyncio.sleep(0.6)
            assert _pings(systemd) == 0
        finally:
            watchdog.cancel()


def _pings(systemd: socket.socket) -> int:
    count = 0
    while True:
        try:
            message = systemd.recv(4096)
        except BlockingIOError:
            return count
        count += message == b"WATCHDOG=1"
