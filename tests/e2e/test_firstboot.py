"""First boot against a temporary root directory, with the pinned Kubo initialising the
repository, run as ``chatbox firstboot`` like the unit does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from chatbox import config, firstboot
from chatbox.daemon import Node, web_services
from chatbox.devstack import IpfsDaemon, ipfs_binary
from chatbox.web.app import create_app
from tests.conftest import TEST_PASSWORD_COST, node_settings
from tests.web.conftest import json_session

SECRET_URL = "https://eth-mainnet.example.net/v2/SECRET-API-KEY"
OWNER_SETTINGS = f"""# the owner's settings, as written on the boot partition
box_name = "library"
registration = "open"
chain_rpc_url = "http://127.0.0.1:8545"
light_client_network = "sepolia"
light_client_execution_rpc = "{SECRET_URL}"
"""


@pytest.fixture
def layout(tmp_path: Path) -> firstboot.Layout:
    root, boot = tmp_path / "root", tmp_path / "boot"
    (root / "etc").mkdir(parents=True)
    boot.mkdir()
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n")
    return firstboot.Layout(root=root, boot=boot)


def _run(layout: firstboot.Layout, ipfs: str = "") -> subprocess.CompletedProcess[str]:
    places = ["--root", str(layout.root), "--boot", str(layout.boot)]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "chatbox",
            "firstboot",
            *places,
            "--ipfs-bin",
            ipfs or ipfs_binary(),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CHATBOX_LOG_LEVEL": "INFO"},
    )


def _snapshot(*directories: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``directories``: mode and contents."""
    return {
        str(path): (path.stat().st_mode, path.read_bytes())
        for directory in directories
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def test_first_boot_sets_up_the_box_and_a_second_run_changes_nothing(
    layout: firstboot.Layout,
) -> None:
    (layout.boot / "chatbox.toml").write_text(OWNER_SETTINGS)

    first = _run(layout)
    assert first.returncode == 0, first.stderr
    assert SECRET_URL not in first.stdout + first.stderr

    installed = config.load(layout.settings_file, environ={})
    assert (installed.box_name, installed.registration) == ("library", "open")
    assert installed.light_client_execution_rpc == SECRET_URL
    assert layout.settings_file.stat().st_mode & 0o777 == 0o640
    # The boot partition keeps a copy without the secret, under a name not read again.
    assert not (layout.boot / "chatbox.toml").exists()
    applied = (layout.boot / "chatbox.toml.applied").read_text()
    assert "SECRET-API-KEY" not in applied and "chain_rpc_url" in applied
    assert tomllib.loads(applied)["box_name"] == "library"

    assert (layout.root / "etc/hostname").read_text() == "library\n"
    assert "127.0.1.1\tlibrary" in (layout.root / "etc/hosts").read_text()
    assert "raspberrypi" not in (layout.root / "etc/hosts").read_text()
    data = layout.root / "var/lib/chatbox"
    assert (data / "box.key").stat().st_mode & 0o777 == 0o600
    assert (data / "chain-account.json").exists()

    kubo = json.loads((layout.root / "var/lib/kubo/config").read_text())
    assert kubo["Addresses"]["API"] == "/ip4/127.0.0.1/tcp/5001"
    assert kubo["Addresses"]["Gateway"] == "/ip4/127.0.0.1/tcp/8081"
    assert kubo["Pubsub"]["Enabled"] is True
    assert kubo["Swarm"]["ResourceMgr"]["MaxMemory"] == "96MiB"
    assert kubo["Discovery"]["MDNS"]["Enabled"] is False
    assert kubo["Identity"]["PeerID"]  # made by the real `ipfs init`

    light = (layout.etc / "light-client.env").read_text()
    assert "LIGHT_CLIENT_NETWORK=sepolia\n" in light
    assert f"EXECUTION_RPC='{SECRET_URL}'\n" in light
    assert (layout.etc / "light-client.env").stat().st_mode & 0o777 == 0o600

    record = json.loads(layout.record_file.read_text())
    assert record["problem"] is None
    assert any("hostname" in change for change in record["changed"])
    assert "hostname set to library" in first.stdout

    before = _snapshot(layout.root, layout.boot)
    second = _run(layout)
    assert second.returncode == 0, second.stderr
    assert _snapshot(layout.root, layout.boot) == before
    assert "nothing to change" in second.stdout


def test_a_broken_settings_file_is_not_applied_and_says_why(layout: firstboot.Layout) -> None:
    (layout.boot / "chatbox.toml").write_text('box_name = "has spaces"\nhttp_port = 80\n')

    result = _run(layout)

    assert result.returncode == 0, "a broken settings file must not stop the boot"
    line = "chatbox.toml was not applied: setting 'box_name': must be 1 to 63 letters"
    assert line in result.stderr
    assert firstboot.read_problem(layout.record_file) is not None
    assert line in (firstboot.read_problem(layout.record_file) or "")
    # Left for the owner to fix; the box runs on its defaults meanwhile.
    assert (layout.boot / "chatbox.toml").exists()
    assert not layout.settings_file.exists()
    assert (layout.root / "etc/hostname").read_text() == "chatbox\n"
    assert (layout.root / "var/lib/chatbox/box.key").exists()

    # Fixed on the next boot: applied, and the problem is gone.
    (layout.boot / "chatbox.toml").write_text('box_name = "hall"\n')
    assert _run(layout).returncode == 0
    assert firstboot.read_problem(layout.record_file) is None
    assert (layout.root / "etc/hostname").read_text() == "hall\n"

    # A mistake after that keeps the box on its previous settings, not on the defaults.
    applied = layout.settings_file.read_text()
    (layout.boot / "chatbox.toml").write_text('box_name = "hall"\nhttp_port = "eighty"\n')
    assert _run(layout).returncode == 0
    assert "http_port" in (firstboot.read_problem(layout.record_file) or "")
    assert layout.settings_file.read_text() == applied
    assert config.load(layout.settings_file, environ={}).box_name == "hall"
    assert (layout.root / "etc/hostname").read_text() == "hall\n"


def test_light_client_is_off_when_the_chain_is_reached_elsewhere(
    layout: firstboot.Layout,
) -> None:
    (layout.boot / "chatbox.toml").write_text(OWNER_SETTINGS)
    assert _run(layout).returncode == 0
    assert (layout.etc / "light-client.env").exists()

    (layout.boot / "chatbox.toml").write_text(
        f'chain_rpc_url = "https://rpc.example.org"\nlight_client_execution_rpc = "{SECRET_URL}"\n'
    )
    assert _run(layout).returncode == 0
    assert not (layout.etc / "light-client.env").exists()


def test_a_missing_kubo_is_reported_and_the_rest_is_done(layout: firstboot.Layout) -> None:
    result = _run(layout, ipfs=str(layout.root / "no-such-ipfs"))
    assert result.returncode == 0, result.stderr
    assert "the Kubo repository could not be made" in result.stderr
    assert (layout.root / "var/lib/chatbox/box.key").exists()
    assert (layout.root / "etc/hostname").read_text() == "chatbox\n"
    assert "Kubo repository" in (firstboot.read_problem(layout.record_file) or "")


async def test_the_status_page_names_the_rejected_settings(
    layout: firstboot.Layout, ipfs_daemon: IpfsDaemon
) -> None:
    (layout.boot / "chatbox.toml").write_text("http_port = 99999\n")
    assert _run(layout).returncode == 0
    settings = node_settings(layout.root / "var/lib/chatbox", ipfs_daemon.api_url)
    node = Node(settings, password_cost=TEST_PASSWORD_COST, settings_file=layout.settings_file)
    await node.start()
    try:
        client = create_app(web_services(node.services), 1024, "chatbox", "test").test_client()
        status = await (await client.get("/api/v1/status")).get_json()
        [notice] = status["notices"]
        assert "chatbox.toml was not applied: setting 'http_port'" in notice
        await json_session(client, "/api/v1/setup", {"name": "owner", "password": "owner pass"})
        page = await (await client.get("/status")).get_data(as_text=True)
        assert "setting &#39;http_port&#39;: must be a port number" in page
    finally:
        await node.stop()
