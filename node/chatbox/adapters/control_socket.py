"""The node's local control socket: one JSON request per line, one JSON answer per line.

A Unix socket in the data directory (mode 0600, the node's own user; the console runs as
root), so nothing on the network can reach it and no password is needed to use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from chatbox.errors import ChatboxError, Unavailable

log = logging.getLogger(__name__)
SOCKET_NAME = "control.sock"
MAX_LINE = 64 * 1024
CALL_TIMEOUT = 30.0

Handler = Callable[[Any], Awaitable[dict[str, Any]]]


async def serve_control(path: Path, handler: Handler) -> asyncio.Server:
    """Listen on ``path`` (a stale socket from a crash is replaced)."""
    await asyncio.to_thread(_remove_stale, path)

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                writer.write(json.dumps(await _answer(handler, line)).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, ValueError):
            pass  # the console went away mid-answer, or sent an over-long line
        finally:
            writer.close()

    server = await asyncio.start_unix_server(connected, path, limit=MAX_LINE)
    await asyncio.to_thread(os.chmod, path, 0o600)
    return server


def _remove_stale(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


async def _answer(handler: Handler, line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
    except ValueError:
        return {"error": "the request is not JSON"}
    try:
        return await handler(request)
    except ChatboxError as exc:
        return {"error": exc.message, "detail": exc.detail}
    except Exception:
        log.exception("control command failed")
        return {"error": "the node failed to answer; see its log"}


class ControlClient:
    """The console's side: asks the running node; Unavailable if it does not run."""

    def __init__(self, path: Path) -> None:
        self._path = path

    async def call(self, command: str) -> Any:
        try:
            async with asyncio.timeout(CALL_TIMEOUT):
                reader, writer = await asyncio.open_unix_connection(self._path, limit=MAX_LINE)
                try:
                    writer.write(json.dumps({"command": command}).encode() + b"\n")
                    await writer.drain()
                    line = await reader.readline()
                finally:
                    writer.close()
        except (OSError, TimeoutError) as exc:
            raise Unavailable(
                "the chatbox node is not running", detail="see: systemctl status chatbox"
            ) from exc
        answer = json.loads(line) if line else {"error": "the node closed the connection"}
        if "error" in answer:
            raise ChatboxError(answer["error"], detail=answer.get("detail") or "")
        return answer["result"]
