"""The box's Kubo configuration, as first boot writes it and every test daemon runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from chatbox.adapters import kubo_repo
from chatbox.devstack import IpfsDaemon, ipfs_binary


def _value(config: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        config = config[key]
    return config


async def test_the_test_daemon_runs_the_box_configuration(ipfs_daemon: IpfsDaemon) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(ipfs_daemon.api_url + "/api/v0/config/show") as reply,
    ):
        running = json.loads(await reply.read())
    isolated = kubo_repo.isolated_settings(1, 2, [])
    for keys, value in kubo_repo.BOX_SETTINGS.items():
        if keys not in isolated:
            assert _value(running, keys) == value, keys
    # What a test changes keeps the box's rule: RPC and gateway on loopback only.
    assert running["Addresses"]["API"].startswith("/ip4/127.0.0.1/tcp/")
    assert running["Addresses"]["Gateway"].startswith("/ip4/127.0.0.1/tcp/")
    assert running["Bootstrap"] == []
    assert running["Pubsub"]["Enabled"] is True


def test_configure_keeps_what_kubo_made_and_changes_nothing_the_second_time(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "kubo"
    assert kubo_repo.make(ipfs_binary(), repo)
    peer_id = json.loads((repo / "config").read_text())["Identity"]["PeerID"]
    assert kubo_repo.configure(repo)
    written = (repo / "config").read_bytes()
    assert not kubo_repo.make(ipfs_binary(), repo)
    assert not kubo_repo.configure(repo)
    assert (repo / "config").read_bytes() == written
    config = json.loads(written)
    assert config["Identity"]["PeerID"] == peer_id
    assert config["Plugins"]["Plugins"]["telemetry"]["Config"]["Mode"] == "off"
    assert config["Routing"]["Type"] == "autoclient"
    assert (repo / "config").stat().st_mode & 0o777 == 0o600


def test_the_development_stack_starts_kubo_as_kubo_service_does() -> None:
    unit = Path(__file__).resolve().parents[2] / "systemd/kubo.service"
    exec_start = next(
        line.split("=", 1)[1].split()
        for line in unit.read_text().splitlines()
        if line.startswith("ExecStart=")
    )
    assert exec_start[0] == "/usr/local/bin/ipfs"
    assert tuple(exec_start[1:]) == kubo_repo.DAEMON_ARGS
