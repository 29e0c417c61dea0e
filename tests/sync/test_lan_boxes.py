"""Two whole boxes on a LAN: each its own Kubo and node process in a network namespace (root).

The boxes share one veth link, the LAN, and know nothing of each other but what mDNS tells
them. The test reaches each box's web API over a link of its own from this namespace (as
a person's browser would), so taking the LAN link down is a real partition: nothing
crosses between the boxes until it comes back.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chatbox.adapters import kubo_repo
from chatbox.devstack import ipfs_binary
from tests.sync import netns

pytestmark = pytest.mark.slow

START_TIMEOUT = 60.0
# Past the box's own 30 s periodic exchange and redial, with room for a loaded machine.
HEAL_TIMEOUT = 150.0
# A box that joins or connects must not wait for the periodic exchange (30 s).
FIRST_SYNC_TIMEOUT = 10.0


class Api:
    """One person's browser session on a box: cookie, CSRF token, JSON in and out."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self._csrf = ""

    def call(self, method: str, path: str, body: object = None) -> Any:
        request = urllib.request.Request(
            self.base + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json", "X-CSRF-Token": self._csrf},
        )
        with self._opener.open(request, timeout=10) as response:
            reply = json.load(response)
        if isinstance(reply, dict) and "csrf_token" in reply:
            self._csrf = reply["csrf_token"]
        return reply

    def texts(self, channel_id: str) -> list[str]:
        """The channel's whole history as this person pages through it, oldest first."""
        texts: list[str] = []
        query = "?limit=200"
        while True:
            page = self.call("GET", f"/api/v1/channels/{channel_id}/messages{query}")
            texts[:0] = [message["text"] for message in page["messages"]]
            if page["before"] is None:
                return texts
            query = f"?limit=200&before={page['before']}"

    def post(self, channel_id: str, texts: list[str]) -> None:
        for text in texts:
            self.call("POST", f"/api/v1/channels/{channel_id}/messages", {"text": text})


class LanBox:
    """Kubo and ``chatbox run`` as their own processes inside namespace ``namespace``."""

    def __init__(
        self, root: Path, namespace: str, name: str, lan: tuple[str, str], web: str
    ) -> None:
        self.root, self.namespace, self.name, self.web = root, namespace, name, web
        self.lan_device, lan_address = lan
        self.repo = root / "kubo"
        kubo_repo.make(ipfs_binary(), self.repo)
        # Inside its namespace the box has loopback to itself: the box's own ports.
        kubo_repo.configure(
            self.repo, kubo_repo.isolated_settings(5001, 8081, [f"/ip4/{lan_address}/tcp/4001"])
        )
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> Api:
        self._spawn("kubo", [ipfs_binary(), *kubo_repo.DAEMON_ARGS], {"IPFS_PATH": str(self.repo)})
        self._wait(lambda: self._kubo_answers(), "Kubo")
        settings = {
            "CHATBOX_DATA_DIR": str(self.root / "node"),
            "CHATBOX_BOX_NAME": self.name,
            "CHATBOX_HTTP_HOST": "0.0.0.0",
            "CHATBOX_HTTP_PORT": "8080",
            "CHATBOX_IPFS_API": "http://127.0.0.1:5001",
            "CHATBOX_MDNS": "on",
            "CHATBOX_LOG_LEVEL": "DEBUG",
        }
        self._spawn(
            "node", [sys.executable, "-m", "chatbox", "--config", "/nonexistent", "run"], settings
        )
        api = Api(f"http://{self.web}:8080")
        self._wait(lambda: _answers(api.base + "/healthz"), "the node")
        return api

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def log(self) -> str:
        status = ""
        try:
            with urllib.request.urlopen(f"http://{self.web}:8080/api/v1/status", timeout=5) as r:
                status = r.read().decode()
        except (urllib.error.URLError, OSError) as exc:
            status = str(exc)
        return f"=== {self.name} status {status}\n" + "".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}\n"
            for path in sorted(self.root.glob("*.log"))
        )

    def _spawn(self, what: str, argv: list[str], env: dict[str, str]) -> None:
        with (self.root / f"{what}.log").open("ab") as log:
            self.processes.append(
                subprocess.Popen(
                    ["ip", "netns", "exec", self.namespace, *argv],
                    env={**os.environ, **env},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            )

    def _kubo_answers(self) -> bool:
        probe = ["ip", "netns", "exec", self.namespace, ipfs_binary()]
        probe += ["--api", "/ip4/127.0.0.1/tcp/5001", "id"]
        return subprocess.run(probe, capture_output=True, check=False).returncode == 0

    def _wait(self, check: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not check():
            if any(process.poll() is not None for process in self.processes):
                pytest.fail(f"{what} of {self.name} exited while starting:\n{self.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"{what} of {self.name} did not start:\n{self.log()}")
            time.sleep(0.2)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _until(check: Callable[[], bool], timeout: float, what: str, boxes: list[LanBox]) -> float:
    """Wait for ``check``; the seconds it took. Fails with both boxes' logs after ``timeout``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            pytest.fail(
                f"{what} did not happen within {timeout:.0f} s:\n"
                + "".join(box.log() for box in boxes)
            )
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.fixture
def lan(tmp_path: Path) -> Iterator[tuple[LanBox, LanBox]]:
    """Box A at 10.231.1.1 and box B at 10.231.1.2 on the LAN link; each web API reached
    from here over its own link (10.232.1.2, 10.232.2.2), which routes nowhere else."""
    netns.need_root()
    tag = f"{os.getpid() % 10000}"
    spaces = {"a": f"cbl-a-{tag}", "b": f"cbl-b-{tag}"}
    boxes: list[LanBox] = []
    try:
        for space in spaces.values():
            netns.add_namespace(space)
        netns.link(
            (spaces["a"], f"lana{tag}", "10.231.1.1/24"),
            (spaces["b"], f"lanb{tag}", "10.231.1.2/24"),
        )
        for index, side in enumerate(("a", "b"), start=1):
            netns.link(
                (None, f"cbw{side}{tag}", f"10.232.{index}.1/30"),
                (spaces[side], f"web{side}{tag}", f"10.232.{index}.2/30"),
            )
            (tmp_path / side).mkdir()
            lan_end = (f"lan{side}{tag}", f"10.231.1.{index}")
            boxes.append(
                LanBox(tmp_path / side, spaces[side], f"box-{side}", lan_end, f"10.232.{index}.2")
            )
        yield boxes[0], boxes[1]
    finally:
        for box in boxes:
            box.stop()
        for space in spaces.values():
            netns.delete_namespace(space)


def test_two_boxes_find_each_other_sync_both_ways_and_heal_a_partition(
    lan: tuple[LanBox, LanBox],
) -> None:
    box_a, box_b = lan
    boxes = [box_a, box_b]
    ada = box_a.start()
    ada.call("POST", "/api/v1/setup", {"name": "ada", "password": "correct horse"})
    lobby = ada.call("POST", "/api/v1/channels", {"name": "lobby", "visibility": "public"})["id"]
    staff = ada.call("POST", "/api/v1/channels", {"name": "staff", "visibility": "private"})["id"]
    ada.post(lobby, [f"lobby a{i}" for i in range(50)])
    ada.post(staff, [f"staff a{i}" for i in range(10)])
    invite = ada.call("GET", f"/api/v1/channels/{staff}/invite")["token"]

    bo = box_b.start()
    bo.call("POST", "/api/v1/setup", {"name": "bo", "password": "battery staple"})

    # Found over mDNS alone: no address was handed to either box.
    def b_sees_a_online() -> bool:
        boxes_seen = bo.call("GET", "/api/v1/peers")["boxes"]
        return any(b["name"] == "box-a" and b["availability"] == "online" for b in boxes_seen)

    _until(b_sees_a_online, START_TIMEOUT, "B finding A over mDNS and connecting", boxes)

    # Joining a channel A holds (the same public name is the same channel) brings its
    # history at once, not at the next periodic exchange.
    assert (
        bo.call("POST", "/api/v1/channels", {"name": "lobby", "visibility": "public"})["id"]
        == lobby
    )
    took = _until(lambda: len(bo.texts(lobby)) == 50, FIRST_SYNC_TIMEOUT, "B catching up", boxes)
    print(f"B held the lobby's 50 messages {took:.2f} s after joining")
    assert bo.call("POST", "/api/v1/invites/accept", {"token": invite})["id"] == staff
    _until(lambda: len(bo.texts(staff)) == 10, FIRST_SYNC_TIMEOUT, "B reading staff", boxes)

    # Both ways.
    bo.post(lobby, [f"lobby b{i}" for i in range(5)])
    bo.post(staff, [f"staff b{i}" for i in range(5)])
    _until(
        lambda: len(ada.texts(lobby)) == 55 and len(ada.texts(staff)) == 15,
        30,
        "A reading B",
        boxes,
    )

    # A real partition: the link goes down, both sides post, the link comes back.
    netns.set_link(box_a.namespace, box_a.lan_device, "down")
    ada.post(lobby, [f"lobby a-apart{i}" for i in range(30)])
    ada.post(staff, [f"staff a-apart{i}" for i in range(5)])
    bo.post(lobby, [f"lobby b-apart{i}" for i in range(20)])
    bo.post(staff, [f"staff b-apart{i}" for i in range(5)])
    assert len(ada.texts(lobby)) == 85 and len(bo.texts(lobby)) == 75
    netns.set_link(box_a.namespace, box_a.lan_device, "up")

    def converged() -> bool:
        return all(
            len(api.texts(channel)) == total
            for api in (ada, bo)
            for channel, total in ((lobby, 105), (staff, 25))
        )

    took = _until(converged, HEAL_TIMEOUT, "both boxes converging after the partition", boxes)
    print(f"converged {took:.1f} s after the link came back")
    for channel, prefix, counts in (
        (lobby, "lobby", (50, 5, 30, 20)),
        (staff, "staff", (10, 5, 5, 5)),
    ):
        on_a, on_b = ada.texts(channel), bo.texts(channel)
        assert on_a == on_b  # the same total order on both boxes
        expected = [
            f"{prefix} {label}{i}"
            for label, count in zip(("a", "b", "a-apart", "b-apart"), counts, strict=True)
            for i in range(count)
        ]
        assert sorted(on_a) == sorted(expected)  # each message once, none lost
        # Each box's own posts keep their order.
        assert [t for t in on_a if " b-apart" in t] == [t for t in expected if " b-apart" in t]
