"""A nearly full disk: the node's data directory on a small loop-mounted ext4 filesystem.

Uploads stop first with a clear message, text keeps flowing until the reserve, the status
page warns, and nothing already stored is lost or corrupted. Needs root (losetup, mount);
CI runs as root, so there it fails instead of skipping.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from quart.typing import TestClientProtocol as Client
from quart.wrappers import Response

from chatbox.daemon import DATABASE_FILE, Node, web_services
from chatbox.devstack import IpfsDaemon
from chatbox.web.app import create_app
from tests.conftest import FAST_OUTBOX, TEST_PASSWORD_COST, node_settings
from tests.web.conftest import json_session

MIB = 1024 * 1024
RESERVE = 4 * MIB
DISK = 40 * MIB
OWNER = {"name": "owner", "password": "owner password"}

if os.geteuid() != 0:
    if os.environ.get("CI"):
        raise RuntimeError("the disk-full test mounts a loop device and must run as root in CI")
    pytest.skip("mounting a loop device needs root", allow_module_level=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    image = tmp_path / "disk.img"
    mount = tmp_path / "disk"
    mount.mkdir()
    with image.open("wb") as file:
        file.truncate(DISK)
    # -m 0: no blocks reserved for root, so what the node sees free is what there is.
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], check=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.fixture
async def full_node(small_disk: Path, ipfs_daemon: IpfsDaemon) -> AsyncIterator[Node]:
    settings = node_settings(
        small_disk / "node", ipfs_daemon.api_url, disk_reserve=RESERVE, upload_limit=8 * MIB
    )
    node = Node(settings, password_cost=TEST_PASSWORD_COST, outbox_timing=FAST_OUTBOX)
    await node.start()
    yield node
    await node.stop()


def _fill_until_free(directory: Path, free: int) -> Path:
    """A ballast file that leaves about ``free`` bytes on the filesystem."""
    ballast = directory / "ballast"
    available = os.statvfs(directory).f_bavail * os.statvfs(directory).f_frsize
    with ballast.open("ab") as file:
        file.write(b"\0" * max(available - free, 0))
        file.flush()
        os.fsync(file.fileno())
    return ballast


async def _upload(client: Client, channel: str, headers: dict[str, str]) -> Response:
    """Upload a 1 MiB picture to ``channel``."""
    body, content_type = _multipart("photo.jpg", os.urandom(MIB))
    return await client.post(
        f"/api/v1/channels/{channel}/files",
        data=body,
        headers={**headers, "Content-Type": content_type},
    )


def _multipart(name: str, content: bytes) -> tuple[bytes, str]:
    boundary = "diskfullboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


async def test_full_disk_refuses_files_then_text_and_loses_nothing(
    full_node: Node, small_disk: Path
) -> None:
    client: Client = create_app(
        web_services(full_node.services), full_node.settings.upload_limit, "testbox", "test"
    ).test_client()
    csrf = await json_session(client, "/api/v1/setup", OWNER)
    headers = {"X-CSRF-Token": csrf}
    created = await client.post(
        "/api/v1/channels", json={"name": "plans", "visibility": "public"}, headers=headers
    )
    channel = (await created.get_json())["id"]
    messages = f"/api/v1/channels/{channel}/messages"

    async def post(text: str) -> int:
        return (await client.post(messages, json={"text": text}, headers=headers)).status_code

    assert await post("before the disk filled") == 201
    ballast = _fill_until_free(small_disk, RESERVE + 3 * MIB)

    upload = await _upload(client, channel, headers)
    assert upload.status_code == 507, await upload.get_data(as_text=True)
    refusal = await upload.get_json()
    assert refusal["error"].startswith("the box is nearly out of storage")
    assert "text messages still work" in refusal["error"]

    status = await (await client.get("/api/v1/status")).get_json()
    assert status["storage"]["state"] == "low"
    page = await (await client.get("/status")).get_data(as_text=True)
    assert "Something needs attention." in page
    assert "The box is nearly full: files and pictures cannot be sent, messages can." in page

    accepted = ["before the disk filled"]
    refused_with = None
    for number in range(5000):
        text = f"message {number} " + "x" * 400
        code = await post(text)
        if code != 201:
            refused_with = code
            break
        accepted.append(text)
    assert refused_with == 507, "text was never refused as the disk filled"
    # 3 MiB of room: before its first checkpoint the WAL takes about 64 KiB a post (the
    # entry, its content block, its indexes and search rows), so some 40 to 60 fit.
    assert len(accepted) > 30, "text stopped long before the reserve"
    status = await (await client.get("/api/v1/status")).get_json()
    assert status["storage"]["state"] == "full"
    assert status["storage"]["free_bytes"] < RESERVE

    history = await (await client.get(f"{messages}?limit=200")).get_json()
    shown = [message["text"] for message in history["messages"]]
    assert shown == accepted[-len(shown) :]
    database = sqlite3.connect(full_node.settings.data_dir / DATABASE_FILE)
    try:
        assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = database.execute("SELECT count(*) FROM entries").fetchone()[0]
    finally:
        database.close()
    assert stored == len(accepted)

    ballast.unlink()
    assert await post("after space was freed") == 201
    upload = await _upload(client, channel, headers)
    assert upload.status_code == 201, await upload.get_data(as_text=True)
    status = await (await client.get("/api/v1/status")).get_json()
    assert status["storage"]["state"] == "ok"
