"""The web face served for real: the Quart test client, hypercorn on a free port, Chromium."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config
from playwright.async_api import Browser, async_playwright
from quart import Quart
from quart.typing import TestClientProtocol as Client

from chatbox.daemon import Node, web_services
from chatbox.devstack import free_port
from chatbox.web.app import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium keeps trying to reach Google's hosts from a closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def app(node: Node) -> Quart:
    return create_app(
        web_services(node.services), node.settings.upload_limit, "testbox", "test", 0.5
    )


@pytest.fixture
def client(app: Quart) -> Client:
    return app.test_client()


@contextlib.asynccontextmanager
async def serving(app: Quart, port: int) -> AsyncIterator[str]:
    """The app under hypercorn on loopback ``port`` while the block runs; yields its URL."""
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.graceful_timeout = 1.0
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    await _wait_until_serving(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)


@pytest.fixture
async def served(app: Quart) -> AsyncIterator[str]:
    """The app under hypercorn on a free loopback port; yields its base URL."""
    async with serving(app, free_port()) as base:
        yield base


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


ERROR_SHAPE = {"error", "detail", "code"}


def assert_error_shape(body: Any) -> None:
    """The one shape of every error the API answers (``web/errors.py``)."""
    assert isinstance(body, dict) and set(body) == ERROR_SHAPE, body
    assert all(isinstance(body[key], str) for key in ERROR_SHAPE), body
    assert body["error"] and body["code"], body


async def json_session(client: Client, path: str, body: dict[str, Any]) -> str:
    """POST credentials; returns the CSRF token of the session the cookie now holds."""
    response = await client.post(path, json=body)
    assert response.status_code in (200, 201), await response.get_data(as_text=True)
    return str((await response.get_json())["csrf_token"])


async def _wait_until_serving(port: int) -> None:
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise AssertionError("the web app did not start")


def png(width: int, height: int) -> bytes:
    """A small valid PNG (solid colour), made here so the tests need no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x20\x80\xd0" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
