"""Boot-time set-up of the appliance (``chatbox firstboot``, run by chatbox-firstboot.service).

It runs at every boot and is idempotent: what is already as it should be is left alone, so
a second run changes no file. In order:

1. ``chatbox.toml`` on the boot partition, if the owner put one there, is validated and
   installed as ``/etc/chatbox/chatbox.toml``; the boot copy is renamed
   ``chatbox.toml.applied`` with its secret values (RPC URLs, which carry API keys) removed.
   A broken file is left where it is, not applied, and its one-line problem is recorded
   for the status page and the serial console; the box keeps running on its settings.
2. The hostname becomes ``box_name``.
3. The box keys and chain account are made if missing.
4. The Kubo repository is initialised with the low-power profile if missing, and its
   config is held to what the box needs (RPC and gateway on loopback, pubsub on, memory
   caps for a 512 MB Pi, Kubo's own mDNS off so python-zeroconf is the one responder).
5. The light client's settings are written for its unit when the chain is reached
   through it, and removed when it is not.

What changed is printed and kept in ``/etc/chatbox/firstboot.json``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chatbox import config
from chatbox.adapters import chain_account, keyfile, kubo_repo
from chatbox.adapters.atomic import write_if_changed
from chatbox.errors import ConfigError

BOOT_SETTINGS = "chatbox.toml"
APPLIED_SUFFIX = ".applied"
RECORD_FILE = "firstboot.json"
LIGHT_CLIENT_ENV = "light-client.env"
KUBO_REPO = Path("var/lib/kubo")
LIGHT_CLIENT_URL = "http://127.0.0.1:8545"
SERVICE_USER = "chatbox"
KUBO_USER = "kubo"


@dataclass(frozen=True)
class Layout:
    """Where things are: ``root`` is ``/`` on the box and a temporary directory in tests."""

    root: Path = Path("/")
    boot: Path = Path("/boot/firmware")

    @property
    def etc(self) -> Path:
        return self.root / "etc/chatbox"

    @property
    def settings_file(self) -> Path:
        return self.etc / "chatbox.toml"

    @property
    def record_file(self) -> Path:
        return self.etc / RECORD_FILE

    def inside(self, path: Path) -> Path:
        """An absolute path of the box, under ``root``."""
        return self.root / path.relative_to("/")


@dataclass
class Report:
    changed: list[str] = field(default_factory=list)
    problem: str | None = None


def run(layout: Layout, ipfs_binary: str = "ipfs") -> Report:
    report = Report()
    _apply_boot_settings(layout, report)
    settings = _installed_settings(layout, report)
    _set_hostname(layout, settings.box_name, report)
    _make_box_keys(layout, settings, report)
    _init_kubo(layout, ipfs_binary, report)
    _light_client(layout, settings, report)
    _record(layout, report)
    return report


def read_problem(record_file: Path) -> str | None:
    """The problem the last run recorded, if any (shown on the status page and console)."""
    try:
        problem = json.loads(record_file.read_text()).get("problem")
    except (OSError, ValueError, AttributeError):
        return None
    return problem if isinstance(problem, str) else None


def _apply_boot_settings(layout: Layout, report: Report) -> None:
    offered = layout.boot / BOOT_SETTINGS
    if not offered.exists():
        return
    try:
        config.load(offered, environ={})
    except ConfigError as exc:
        _add_problem(report, f"{offered} was not applied: {exc.message}")
        return
    text = offered.read_text()
    if write_if_changed(layout.settings_file, text.encode(), mode=0o640):
        report.changed.append(f"installed {layout.settings_file} from the boot partition")
    # Readable by the node (group chatbox), not by other users: it may hold API keys.
    ids = _user_ids(layout.root / "etc/passwd", SERVICE_USER)
    if ids is not None and layout.settings_file.stat().st_gid != ids[1]:
        os.chown(layout.settings_file, 0, ids[1])
    # Rename first, then redact: the secrets leave the FAT partition even if power fails
    # between the two steps (the renamed copy is no longer read at boot).
    applied = offered.with_name(BOOT_SETTINGS + APPLIED_SUFFIX)
    os.replace(offered, applied)
    applied.write_text(_redacted(text))
    report.changed.append(f"moved {offered.name} to {applied.name} without its secrets")


def _redacted(text: str) -> str:
    """The settings text with every secret setting's line replaced by a note."""
    lines = []
    for line in text.splitlines():
        match = re.match(r"\s*([A-Za-z_]+)\s*=", line)
        if match and match.group(1) in config.SECRET_SETTINGS:
            line = f"# {match.group(1)} = (removed from this partition; set in /etc/chatbox)"
        lines.append(line)
    result = "\n".join(lines) + "\n"
    remaining = set(tomllib.loads(result)) & set(config.SECRET_SETTINGS)
    assert not remaining, "a secret setting survived redaction"
    return result


def _installed_settings(layout: Layout, report: Report) -> config.Settings:
    try:
        return config.load(layout.settings_file, environ={})
    except ConfigError as exc:
        _add_problem(report, f"{layout.settings_file}: {exc.message}")
        return config.Settings()


def _set_hostname(layout: Layout, name: str, report: Report) -> None:
    if write_if_changed(layout.root / "etc/hostname", f"{name}\n".encode(), mode=0o644):
        report.changed.append(f"hostname set to {name}")
        if layout.root == Path("/"):
            socket.sethostname(name)
    hosts = layout.root / "etc/hosts"
    lines = hosts.read_text().splitlines() if hosts.exists() else ["127.0.0.1\tlocalhost"]
    wanted = f"127.0.1.1\t{name}"
    kept = [line for line in lines if not line.startswith("127.0.1.1")]
    if write_if_changed(hosts, ("\n".join([*kept, wanted]) + "\n").encode(), mode=0o644):
        report.changed.append(f"{hosts.relative_to(layout.root)} names {name}")


def _make_box_keys(layout: Layout, settings: config.Settings, report: Report) -> None:
    data_dir = layout.inside(settings.data_dir)
    box_key = data_dir / keyfile.FILE_NAME
    keystore = data_dir / chain_account.FILE_NAME
    if box_key.exists() and keystore.exists():
        return
    secrets = keyfile.load_or_create(box_key)
    chain_account.load_or_create(keystore, secrets.vault_key)
    _give_to(layout, SERVICE_USER, data_dir)
    report.changed.append(f"box keys made in {settings.data_dir}")


def _init_kubo(layout: Layout, ipfs_binary: str, report: Report) -> None:
    repo = layout.root / KUBO_REPO
    try:
        if kubo_repo.make(ipfs_binary, repo):
            report.changed.append(f"Kubo repository initialised ({kubo_repo.INIT_PROFILE} profile)")
    except (OSError, subprocess.SubprocessError) as exc:
        # The rest of the set-up still holds; the node waits for IPFS and says so.
        _add_problem(report, f"the Kubo repository could not be made ({ipfs_binary}): {exc}")
        return
    if kubo_repo.configure(repo):
        report.changed.append("Kubo config holds loopback RPC, pubsub and memory caps")
    _give_to(layout, KUBO_USER, repo)


def _light_client(layout: Layout, settings: config.Settings, report: Report) -> None:
    env_file = layout.etc / LIGHT_CLIENT_ENV
    through_it = urlsplit(settings.chain_rpc_url)[:2] == urlsplit(LIGHT_CLIENT_URL)[:2]
    if not (through_it and settings.light_client_execution_rpc):
        if env_file.exists():
            env_file.unlink()
            report.changed.append("light client turned off (chain_rpc_url points elsewhere)")
        return
    # Helios reads its RPC URLs from these variables too: kept out of its command line,
    # which every user of the box can read in /proc, the API keys in them stay secret.
    lines = [
        f"LIGHT_CLIENT_NETWORK={settings.light_client_network}",
        f"EXECUTION_RPC='{settings.light_client_execution_rpc}'",
    ]
    if settings.light_client_consensus_rpc:
        lines.append(f"CONSENSUS_RPC='{settings.light_client_consensus_rpc}'")
    text = "\n".join(lines) + "\n"
    if write_if_changed(env_file, text.encode(), mode=0o600):
        report.changed.append(f"light client set up for {settings.light_client_network}")


def _record(layout: Layout, report: Report) -> None:
    previous: dict[str, Any] = {}
    if layout.record_file.exists():
        previous = json.loads(layout.record_file.read_text())
    if not report.changed and previous.get("problem") == report.problem:
        return
    record = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "changed": report.changed,
        "problem": report.problem,
    }
    write_if_changed(layout.record_file, (json.dumps(record, indent=2) + "\n").encode(), 0o644)


def _add_problem(report: Report, problem: str) -> None:
    report.problem = problem if report.problem is None else f"{report.problem}; {problem}"


def _give_to(layout: Layout, user: str, directory: Path) -> None:
    """Hand ``directory`` to ``user`` when the system has that user (the image does)."""
    ids = _user_ids(layout.root / "etc/passwd", user)
    if ids is None:
        return
    for path in [directory, *directory.rglob("*")]:
        if (path.stat().st_uid, path.stat().st_gid) != ids:
            os.chown(path, *ids, follow_symlinks=False)


def _user_ids(passwd: Path, user: str) -> tuple[int, int] | None:
    if not passwd.exists():
        return None
    for line in passwd.read_text().splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[0] == user:
            return int(fields[2]), int(fields[3])
    return None
