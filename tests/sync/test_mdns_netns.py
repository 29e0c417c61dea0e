"""mDNS between two boxes in two network namespaces joined by a veth pair (needs root).

Each box's responder runs in its own namespace as a separate process (mdns_box.py), so the
queries and answers cross a real link on UDP 5353 multicast, as between two Pis on a LAN.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatbox.domain.identity import Identity
from tests.sync import netns

HELPER = Path(__file__).with_name("mdns_box.py")
EVENT_TIMEOUT = 30.0


@pytest.fixture
def lan() -> Iterator[dict[str, str]]:
    """Two namespaces, box-a at 10.231.0.1 and box-b at 10.231.0.2, on one veth link."""
    netns.need_root()
    tag = f"{os.getpid() % 10000}"
    names = {"a": f"cbx-a-{tag}", "b": f"cbx-b-{tag}"}
    addresses = {"a": "10.231.0.1", "b": "10.231.0.2"}
    try:
        for name in names.values():
            netns.add_namespace(name)
        netns.link(
            (names["a"], f"veth-a{tag}", f"{addresses['a']}/24"),
            (names["b"], f"veth-b{tag}", f"{addresses['b']}/24"),
        )
        yield {**{f"ns_{k}": v for k, v in names.items()}, **addresses}
    finally:
        for name in names.values():
            netns.delete_namespace(name)


class Box:
    """mdns_box.py running in a namespace; reads its JSON events."""

    def __init__(self, namespace: str, name: str, resolve: str | None = None) -> None:
        self.key = Identity.generate().public_key
        argv = ["ip", "netns", "exec", namespace, sys.executable, str(HELPER)]
        argv += ["--name", name, "--key", self.key]
        if resolve:
            argv += ["--resolve", resolve]
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )

    def next_event(self, kind: str) -> dict[str, object]:
        deadline = time.monotonic() + EVENT_TIMEOUT
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                stderr = self.process.stderr.read() if self.process.stderr else b""
                pytest.fail(f"the box exited before '{kind}': {stderr.decode()[-2000:]}")
            event = json.loads(line)
            if event["event"] == kind:
                return dict(event)
        pytest.fail(f"no '{kind}' event within {EVENT_TIMEOUT:.0f} s")

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def test_boxes_find_each_other_resolve_names_and_the_second_chatbox_is_renamed(
    lan: dict[str, str],
) -> None:
    first = Box(lan["ns_a"], "chatbox")
    try:
        ready = first.next_event("ready")
        assert ready["name"] == "chatbox.local" and ready["renamed"] is False
        assert ready["addresses"] == [lan["a"]]

        second = Box(lan["ns_b"], "chatbox", resolve="chatbox")
        try:
            ready = second.next_event("ready")
            assert ready["name"] == "chatbox-2.local"
            assert ready["renamed"] is True and ready["requested"] == "chatbox.local"

            found = second.next_event("found")
            assert found["name"] == "chatbox"
            assert found["box_key"] == first.key
            assert found["addresses"] == [lan["a"]]
            assert second.next_event("resolved")["addresses"] == [lan["a"]]

            seen_by_first = first.next_event("found")
            assert seen_by_first["name"] == "chatbox-2"
            assert seen_by_first["box_key"] == second.key
            assert seen_by_first["addresses"] == [lan["b"]]
        finally:
            second.stop()
    finally:
        first.stop()
