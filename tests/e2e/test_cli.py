"""The ``chatbox`` command as the owner runs it: a real process, real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from chatbox.adapters.control_socket import ControlClient
from chatbox.devstack import IpfsDaemon, free_port
from tests.node_http import OwnerSession, first_answer, get_json

pytestmark = pytest.mark.slow
COMMANDS = ("run", "dev", "reindex", "console", "firstboot", "verify", "backup", "restore")


def _chatbox(*args: str, env: dict[str, str], **options: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "chatbox", "--config", "/nonexistent", *args],
        env={**os.environ, **env},
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **options,
    )


def test_help_lists_the_commands() -> None:
    process = _chatbox("--help", env={})
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    # Each command on a line of its own, with what it does beside it.
    listed = dict(re.findall(r"^    ([a-z]+) {2,}(\S.*)$", out, re.M))
    assert sorted(listed) == sorted(COMMANDS), out
    assert all(len(text) > 10 for text in listed.values()), listed


def test_invalid_setting_stops_start_up_with_one_line_naming_the_key() -> None:
    process = _chatbox("run", env={"CHATBOX_UPLOAD_LIMIT": "lots"})
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert err.strip().count("\n") == 0
    assert "upload_limit" in err and "whole number" in err


def test_run_serves_health_and_status_then_stops_on_sigterm(
    tmp_path: Path, ipfs_daemon: IpfsDaemon
) -> None:
    port = free_port()
    env = {
        "CHATBOX_DATA_DIR": str(tmp_path / "data"),
        "CHATBOX_HTTP_PORT": str(port),
        "CHATBOX_HTTP_HOST": "127.0.0.1",
        "CHATBOX_IPFS_API": ipfs_daemon.api_url,
    }
    process = _chatbox("run", env=env)
    try:
        health = first_answer(process, f"http://127.0.0.1:{port}/healthz")
        assert health == {"ok": True}
        status = get_json(f"http://127.0.0.1:{port}/api/v1/status")
        assert status["ipfs"]["online"] is True  # type: ignore[index]
        assert status["outbox"] == {"pending": 0, "last_error": None}
        with pytest.raises(urllib.error.HTTPError) as missing:
            get_json(f"http://127.0.0.1:{port}/nothing-here")
        assert json.load(missing.value)["error"] == "Not Found"
        with pytest.raises(urllib.error.HTTPError) as private:
            get_json(f"http://127.0.0.1:{port}/api/v1/channels")
        assert private.value.code == 401
        private.value.close()
        assert (tmp_path / "data" / "box.key").stat().st_mode & 0o077 == 0
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "secret" not in err.lower() and "password" not in err.lower()


def test_run_tells_systemd_when_ready_feeds_its_watchdog_and_says_when_stopping(
    tmp_path: Path, ipfs_daemon: IpfsDaemon
) -> None:
    port = free_port()
    with (
        tempfile.TemporaryDirectory(dir="/tmp") as short,
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd,
    ):
        systemd.bind(str(Path(short) / "notify"))
        systemd.settimeout(60)
        env = {
            "CHATBOX_DATA_DIR": str(tmp_path / "data"),
            "CHATBOX_HTTP_PORT": str(port),
            "CHATBOX_HTTP_HOST": "127.0.0.1",
            "CHATBOX_IPFS_API": ipfs_daemon.api_url,
            "NOTIFY_SOCKET": str(Path(short) / "notify"),
            "WATCHDOG_USEC": "400000",  # a ping every 0.2 s
        }
        process = _chatbox("run", env=env)
        try:
            assert systemd.recv(4096).decode() == f"READY=1\nSTATUS=serving http://127.0.0.1:{port}"
            # Ready means answering: no retry needed.
            assert get_json(f"http://127.0.0.1:{port}/healthz") == {"ok": True}
            assert [systemd.recv(4096) for _ in range(3)] == [b"WATCHDOG=1"] * 3
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        messages = []
        systemd.setblocking(False)  # what the node sent before it exited is queued
        with contextlib.suppress(BlockingIOError):
            while True:
                messages.append(systemd.recv(4096))
        assert b"STOPPING=1" in messages


def test_run_reports_ipfs_down_without_crashing(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "CHATBOX_DATA_DIR": str(tmp_path / "data"),
        "CHATBOX_HTTP_PORT": str(port),
        "CHATBOX_HTTP_HOST": "127.0.0.1",
        "CHATBOX_IPFS_API": f"http://127.0.0.1:{free_port()}",
    }
    process = _chatbox("run", env=env)
    try:
        status = first_answer(process, f"http://127.0.0.1:{port}/api/v1/status")
        assert status["ipfs"]["online"] is False  # type: ignore[index]
        assert "cannot reach the IPFS daemon" in status["ipfs"]["error"]  # type: ignore[index]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0


def test_reindex_command_rebuilds_from_ipfs(tmp_path: Path, ipfs_daemon: IpfsDaemon) -> None:
    subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("seed_node.py")),
            str(tmp_path / "data"),
            ipfs_daemon.api_url,
        ],
        check=True,
        timeout=120,
    )
    # Break the index: the entries table loses all but the heads' rows.
    database = tmp_path / "data" / "chatbox.db"
    with sqlite3.connect(database) as connection:
        connection.execute("DELETE FROM entries WHERE cid NOT IN (SELECT cid FROM heads)")
        assert connection.execute("SELECT count(*) FROM entries").fetchone()[0] < 25
    env = {"CHATBOX_DATA_DIR": str(tmp_path / "data"), "CHATBOX_IPFS_API": ipfs_daemon.api_url}
    process = _chatbox("reindex", env=env)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "seeded: 25 entries" in out
    with sqlite3.connect(database) as connection:
        texts = [row[0] for row in connection.execute("SELECT body FROM entries ORDER BY clock")]
    assert len(texts) == 25 and len(set(texts)) == 25


def test_backup_beside_a_running_node_leaves_its_socket_and_workers_alone(
    tmp_path: Path, ipfs_daemon: IpfsDaemon
) -> None:
    port = free_port()
    data = tmp_path / "data"
    env = {
        "CHATBOX_DATA_DIR": str(data),
        "CHATBOX_HTTP_PORT": str(port),
        "CHATBOX_HTTP_HOST": "127.0.0.1",
        "CHATBOX_IPFS_API": ipfs_daemon.api_url,
    }
    base = f"http://127.0.0.1:{port}"
    node = _chatbox("run", env=env)
    try:
        first_answer(node, base + "/healthz")
        http = OwnerSession(base)
        socket_before = (data / "control.sock").stat().st_ino
        time.sleep(1.5)  # so a status from a new process would show a smaller uptime
        passphrase = tmp_path / "passphrase"
        passphrase.write_text("a long backup passphrase")
        backup = _chatbox(
            "backup", str(tmp_path / "box.backup"), "--passphrase-file", str(passphrase), env=env
        )
        _, err = backup.communicate(timeout=120)
        assert backup.returncode == 0, err
        assert (tmp_path / "box.backup").stat().st_size > 0
        assert (data / "control.sock").stat().st_ino == socket_before
        status = asyncio.run(ControlClient(data / "control.sock").call("status"))
        assert status["box"]["uptime_seconds"] >= 1, status
        # The node's own outbox still pins what is posted after the backup.
        http.post(f"/api/v1/channels/{http.channel}/messages", {"text": "after the backup"})
        deadline = time.monotonic() + 15
        while get_json(base + "/api/v1/status")["outbox"]["pending"]:  # type: ignore[index]
            assert time.monotonic() < deadline, "the node stopped pinning"
            time.sleep(0.2)
        assert node.poll() is None
    finally:
        node.send_signal(signal.SIGTERM)
        _, err = node.communicate(timeout=30)
    assert node.returncode == 0, err
