"""Hosts on one machine for the LAN tests: network namespaces joined by veth links (root)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def need_root() -> None:
    """Skip without root and iproute2, except under CI, which runs as root and must run these."""
    if os.geteuid() == 0 and shutil.which("ip"):
        return
    reason = "network namespaces need root and iproute2's 'ip'"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI runs as root, so this must run there")
    pytest.skip(reason)


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def add_namespace(name: str) -> None:
    ip("netns", "add", name)
    ip("-n", name, "link", "set", "lo", "up")


def delete_namespace(name: str) -> None:
    subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)


def link(left: tuple[str | None, str, str], right: tuple[str | None, str, str]) -> None:
    """A veth pair; each end is (namespace or None for this one, device name, address/len)."""
    ip("link", "add", left[1], "type", "veth", "peer", "name", right[1])
    for namespace, device, address in (left, right):
        scope = ["-n", namespace] if namespace else []
        if namespace:
            ip("link", "set", device, "netns", namespace)
        ip(*scope, "addr", "add", address, "dev", device)
        ip(*scope, "link", "set", device, "up", "multicast", "on")


def set_link(namespace: str, device: str, state: str) -> None:
    """Take a link ``down`` (a real partition: nothing crosses) or bring it ``up``."""
    ip("-n", namespace, "link", "set", device, state)
