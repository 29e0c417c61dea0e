"""sd_notify messages reach a real datagram socket, as systemd's notify socket receives them."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatbox.adapters.systemd_notify import SystemdNotifier


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    # A short directory: Unix socket paths are limited to 107 bytes.
    with tempfile.TemporaryDirectory(dir="/tmp") as directory:
        path = str(Path(directory) / "notify")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
            listener.bind(path)
            listener.settimeout(5)
            yield listener, path


def test_ready_watchdog_and_stopping_arrive_as_datagrams(
    notify_socket: tuple[socket.socket, str],
) -> None:
    listener, path = notify_socket
    notifier = SystemdNotifier({"NOTIFY_SOCKET": path})
    assert notifier.active
    notifier.ready("serving http://127.0.0.1:8080")
    notifier.watchdog()
    notifier.stopping()
    received = [listener.recv(4096).decode() for _ in range(3)]
    assert received == [
        "READY=1\nSTATUS=serving http://127.0.0.1:8080",
        "WATCHDOG=1",
        "STOPPING=1",
    ]


def test_abstract_socket_names_start_with_at() -> None:
    name = f"chatbox-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(b"\0" + name.encode())
        listener.settimeout(5)
        SystemdNotifier({"NOTIFY_SOCKET": "@" + name}).watchdog()
        assert listener.recv(4096) == b"WATCHDOG=1"


def test_outside_systemd_nothing_is_sent_and_nothing_fails() -> None:
    notifier = SystemdNotifier({})
    assert not notifier.active and notifier.watchdog_interval is None
    notifier.ready("serving")
    notifier.stopping()


def test_a_vanished_socket_is_logged_not_raised(
    notify_socket: tuple[socket.socket, str], caplog: pytest.LogCaptureFixture
) -> None:
    listener, path = notify_socket
    listener.close()
    os.unlink(path)
    SystemdNotifier({"NOTIFY_SOCKET": path}).ready("serving")
    assert "could not notify systemd (READY)" in caplog.text


@pytest.mark.parametrize(
    ("environ", "interval"),
    [
        ({"WATCHDOG_USEC": "60000000"}, 30.0),
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid())}, 30.0),
        # The watchdog was set up for another process (a parent that forked us).
        ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "sixty"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval_is_half_of_watchdog_sec(
    environ: dict[str, str], interval: float | None
) -> None:
    assert SystemdNotifier(environ).watchdog_interval == interval
