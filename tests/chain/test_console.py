"""The serial console as its own process (``chatbox console --port``) on a pseudo-terminal
pair, talking to a running node that anchors on anvil, as chatbox-console.service runs it.

The test holds the pty's master end, as a USB host holds the gadget port; "unplugging" is
closing it, and plugging back in is a new pair behind the same device path.
"""

from __future__ import annotations

import asyncio
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from chatbox.daemon import Node, web_services
from chatbox.web.app import create_app
from tests.conftest import eventually
from tests.web.conftest import json_session

PROMPT = b"chatbox> "
OWNER = {"name": "owner", "password": "owner password"}


class PtyHost:
    """The far end of the serial cable: the master side of a pty, reached via a symlink."""

    def __init__(self, device: Path) -> None:
        self.device = device
        self.master = self.slave = -1
        self.plug()

    def plug(self) -> None:
        master, slave = os.openpty()
        self.master = master
        link = self.device.with_suffix(".new")
        link.unlink(missing_ok=True)
        link.symlink_to(os.ttyname(slave))
        link.replace(self.device)
        # Held open so the master reads nothing but the console's output (reading a master
        # whose slave no one holds fails with EIO), as a gadget port exists while plugged.
        self.slave = slave

    def unplug(self) -> None:
        os.close(self.master)
        os.close(self.slave)
        self.device.unlink()

    def send(self, text: str) -> None:
        os.write(self.master, text.encode() + b"\r")

    def read_until(self, marker: bytes, timeout: float = 20.0) -> str:
        seen = b""
        deadline = time.monotonic() + timeout
        while marker not in seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {marker!r} from the console; got {seen!r}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                seen += os.read(self.master, 4096)
        return seen.decode("utf-8", "replace").replace("\r\n", "\n")

    async def ask(self, command: str) -> str:
        """Type a command; the console's answer (without the echo and the next prompt)."""
        self.send(command)
        output = await asyncio.to_thread(self.read_until, PROMPT)
        echoed, _, answer = output.partition("\n")
        assert echoed.endswith(command), output
        return answer.removesuffix(PROMPT.decode())


@pytest.fixture
def host(tmp_path: Path) -> Iterator[PtyHost]:
    pty_host = PtyHost(tmp_path / "ttyGS0")
    yield pty_host
    if pty_host.device.exists():
        pty_host.unplug()


@pytest.fixture
async def console(host: PtyHost, chain_node: Node, tmp_path: Path) -> AsyncIterator[Path]:
    """The console process; yields the directory it writes Wi-Fi connections to."""
    network = tmp_path / "system-connections"
    settings = chain_node.settings
    env = {
        **os.environ,
        "CHATBOX_DATA_DIR": str(settings.data_dir),
        "CHATBOX_BOX_NAME": "library",
        "CHATBOX_HTTP_PORT": "8080",
    }
    config = tmp_path / "absent.toml"
    argv = ["--config", str(config), "console", "--port", str(host.device)]
    process = _spawn([*argv, "--network-dir", str(network)], env)
    greeting = await asyncio.to_thread(host.read_until, PROMPT)
    assert "chatbox console on library" in greeting
    yield network
    process.terminate()
    _, errors = process.communicate(timeout=10)
    assert process.returncode == 0, errors.decode()
    assert b"correct horse" not in errors  # the passphrase is never logged


async def test_every_console_command_answers(
    console: Path, host: PtyHost, chain_node: Node
) -> None:
    services = chain_node.services
    help_text = await host.ask("help")
    for command in ("status", "ip", "peers", "channels", "wifi", "admin-code", "anchor-now"):
        assert f"\n  {command} " in "\n" + help_text

    status = await host.ask("status")
    assert "node: running" in status and "ipfs: online" in status
    assert "chain: connected" in status
    assert re.search(r"storage: \d+ MiB free", status)

    ip = await host.ask("ip")
    assert "http://library.local:8080/" in ip
    assert re.search(r"http://\d+\.\d+\.\d+\.\d+:8080/", ip)

    assert await host.ask("peers") == "no other boxes known yet\n"
    owner = await services.accounts.register("owner", OWNER["password"], is_admin=True)
    await services.channels.create(owner, "makers", "public")
    await services.messages.post_text(owner, (await services.channels.all())[0].id, "hello")
    assert await host.ask("channels") == "makers  public  1 messages\n"

    assert await host.ask("anchor-now") == "anchoring starts now\n"
    await eventually(lambda: _anchored(chain_node), what="an anchor confirmed")

    host.send('wifi "Home Net"')
    prompt = await asyncio.to_thread(host.read_until, b"open network): ")
    assert "passphrase for Home Net" in prompt
    host.send("correct horse")
    answer = await asyncio.to_thread(host.read_until, PROMPT)
    assert "correct horse" not in answer, "the passphrase was echoed"
    assert "saved Home Net" in answer
    keyfile = console / "chatbox-wifi.nmconnection"
    assert keyfile.stat().st_mode & 0o777 == 0o600
    assert "ssid=Home Net\n" in keyfile.read_text()
    assert "psk=correct horse\n" in keyfile.read_text()


async def test_admin_code_resets_the_admin_password_in_the_ui(
    console: Path, host: PtyHost, chain_node: Node
) -> None:
    app = create_app(web_services(chain_node.services), 1024, "library", "test")
    await json_session(app.test_client(), "/api/v1/setup", OWNER)
    client = app.test_client()  # the owner, logged out, has forgotten the password
    owner = await chain_node.services.accounts.unlock(OWNER["name"], OWNER["password"])
    general = await chain_node.services.channels.create(owner, "plans", "public")
    await chain_node.services.messages.post_text(owner, general.id, "from the old keys")

    answer = await host.ask("admin-code")
    code = re.search(r"reset code: ([A-Z2-9]{5}-[A-Z2-9]{5})", answer)
    assert code is not None, answer
    assert "/reset" in answer

    new = {"name": "owner", "password": "a brand new password", "code": code.group(1)}
    wrong = await client.post("/api/v1/admin/reset", json={**new, "code": "AAAAA-AAAAA"})
    assert wrong.status_code == 401
    reset = await client.post("/api/v1/admin/reset", json=new)
    assert reset.status_code == 200, await reset.get_data(as_text=True)
    again = await app.test_client().post("/api/v1/admin/reset", json=new)
    assert again.status_code == 401, "a reset code works once"
    assert "unknown, used, expired" in (await again.get_json())["error"]

    client = app.test_client()
    old_login = await client.post("/api/v1/session", json=OWNER)
    assert old_login.status_code == 401
    login = await client.post(
        "/api/v1/session", json={"name": "owner", "password": new["password"]}
    )
    assert login.status_code == 200 and (await login.get_json())["is_admin"] is True
    history = await (await client.get(f"/api/v1/channels/{general.id}/messages")).get_json()
    assert history["messages"][0]["author_name"] == "owner"  # old messages keep their name


async def test_bad_input_gets_a_clear_answer(console: Path, host: PtyHost) -> None:
    assert await host.ask("reboot") == "error: unknown command 'reboot'; type help for the list\n"
    assert "ip takes no arguments" in await host.ask("ip now")
    assert "usage: wifi SSID" in await host.ask("wifi")
    assert "error: No closing quotation" in await host.ask('wifi "half')
    assert "no admin yet" in await host.ask("admin-code")
    assert await host.ask("") == ""


async def test_console_survives_an_unplug_and_a_stopped_node(
    console: Path, host: PtyHost, chain_node: Node
) -> None:
    assert "node: running" in await host.ask("status")
    host.unplug()
    await asyncio.sleep(1.5)  # the cable stays out a while
    host.plug()
    greeting = await asyncio.to_thread(host.read_until, PROMPT)
    assert "chatbox console on library" in greeting
    assert "http://library.local:8080/" in await host.ask("ip")

    await chain_node.stop()
    status = await host.ask("status")
    assert "node: the chatbox node is not running" in status
    assert "http://library.local:8080/" in status  # still tells where to look


def _spawn(argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "chatbox", *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def _anchored(node: Node) -> bool:
    assert node.services.anchorer is not None
    return bool((await node.services.anchorer.status())["confirmed_transactions"])
