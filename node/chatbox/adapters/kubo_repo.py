"""The Kubo repository of the box: made once with ``ipfs init``, its config held to what a
box needs (option names from Kubo's docs/config.md and docs/production/low-memory.md).

First boot configures the box's node with it, and the development stack and every test
configure their daemons with the same settings, changing only what a test must (ports,
and no reaching beyond this machine), so the tests run the box's own Kubo configuration.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chatbox.adapters.atomic import write_if_changed

KuboSettings = Mapping[tuple[str, ...], Any]

# The profile `ipfs init` starts from: a DHT client only, few connections (config.md,
# "lowpower profile"); the settings below pin what of it the box relies on.
INIT_PROFILE = "lowpower"
INIT_TIMEOUT = 300.0
# The arguments kubo.service starts the daemon with, and the development stack too.
DAEMON_ARGS = ("daemon", "--init=false", "--migrate=true", "--enable-gc")

BOX_SETTINGS: KuboSettings = {
    # The RPC API is admin-level and the gateway serves whatever is asked: loopback only.
    ("Addresses", "API"): "/ip4/127.0.0.1/tcp/5001",
    ("Addresses", "Gateway"): "/ip4/127.0.0.1/tcp/8081",
    # Channels sync over pubsub (config.md "Pubsub.Enabled"; the daemon flag is deprecated).
    ("Pubsub", "Enabled"): True,
    # Spend nothing on other peers' work: no DHT server, no dial-back or relay service.
    ("Routing", "Type"): "autoclient",
    ("AutoNAT", "ServiceMode"): "disabled",
    ("Swarm", "RelayService", "Enabled"): False,
    ("Swarm", "ConnMgr"): {"Type": "basic", "LowWater": 20, "HighWater": 40, "GracePeriod": "1m"},
    # Scales libp2p's resource manager; with GOMEMLIMIT in kubo.service it keeps Kubo
    # within a 512 MB Pi beside the node (scripts/bench_memory_fit.py measures both).
    ("Swarm", "ResourceMgr", "MaxMemory"): "96MiB",
    # python-zeroconf is the box's one mDNS responder (DESIGN.md section 1).
    ("Discovery", "MDNS", "Enabled"): False,
    # A family's or a school's box reports nothing about itself to anyone (telemetry.md).
    ("Plugins", "Plugins", "telemetry", "Config", "Mode"): "off",
}


def isolated_settings(api_port: int, gateway_port: int, swarm: list[str]) -> KuboSettings:
    """What a test daemon changes: its own ports, and nothing reached beyond this machine.

    No bootstrap peers, and no ``"auto"`` placeholders that AutoConf would resolve by
    fetching the network's defaults (config.md "AutoConf"), so nothing leaves the host.
    """
    return {
        ("Addresses", "API"): f"/ip4/127.0.0.1/tcp/{api_port}",
        ("Addresses", "Gateway"): f"/ip4/127.0.0.1/tcp/{gateway_port}",
        ("Addresses", "Swarm"): swarm,
        ("Bootstrap",): [],
        ("AutoConf", "Enabled"): False,
        ("DNS", "Resolvers"): {},
        ("Routing", "DelegatedRouters"): [],
        ("Ipns", "DelegatedPublishers"): [],
    }


def make(binary: str, repo: Path) -> bool:
    """Initialise the repository unless it exists; True if it was made just now.

    Raises ``OSError`` or ``subprocess.SubprocessError`` when Kubo cannot do it.
    """
    if (repo / "config").exists():
        return False
    repo.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [binary, "init", "--profile", INIT_PROFILE],
        env={**os.environ, "IPFS_PATH": str(repo)},
        check=True,
        capture_output=True,
        timeout=INIT_TIMEOUT,
    )
    return True


def configure(repo: Path, extra: KuboSettings | None = None) -> bool:
    """Hold the config to the box's settings, then ``extra``; True if the file changed."""
    path = repo / "config"
    config = json.loads(path.read_text())
    for keys, value in {**BOX_SETTINGS, **(extra or {})}.items():
        _set(config, keys, value)
    text = (json.dumps(config, indent=2, sort_keys=True) + "\n").encode()
    return write_if_changed(path, text, 0o600)


def _set(config: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    node = config
    for key in keys[:-1]:
        # `ipfs init` writes null for some sections (Plugins.Plugins); they start empty.
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[keys[-1]] = value
