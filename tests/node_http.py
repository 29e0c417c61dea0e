"""A node served by a separate process, reached over plain HTTP: its first answer, a
JSON GET, and the owner's session."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from typing import Any


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return dict(json.load(response))


def first_answer(process: subprocess.Popen[Any], url: str) -> dict[str, Any]:
    """The JSON at ``url`` once the node started by ``process`` serves it."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return get_json(url)
        except OSError:
            assert time.monotonic() < deadline, "the node did not start"
            assert process.poll() is None, process.communicate()[1]
            time.sleep(0.2)


class OwnerSession:
    """Set up the box's owner at ``base`` (first run) and make one channel."""

    def __init__(self, base: str, channel: str = "plans", visibility: str = "public") -> None:
        self._base = base
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        self._csrf = ""
        owner = self.post("/api/v1/setup", {"name": "owner", "password": "owner password"})
        self._csrf = str(owner["csrf_token"])
        made = self.post("/api/v1/channels", {"name": channel, "visibility": visibility})
        self.channel = str(made["id"])

    def post(self, path: str, body: dict[str, str] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            self._base + path,
            data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json", "X-CSRF-Token": self._csrf},
        )
        with self._opener.open(request, timeout=10) as response:
            return dict(json.load(response))

    def get(self, path: str) -> dict[str, Any]:
        with self._opener.open(self._base + path, timeout=10) as response:
            return dict(json.load(response))
