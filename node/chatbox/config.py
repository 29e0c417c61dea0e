"""Owner settings: ``chatbox.toml`` overridden by ``CHATBOX_*`` environment variables.

Loaded once at start into a frozen value. Any invalid setting raises ConfigError naming
the key, which the CLI prints as one line. Keys and defaults (DESIGN.md section 6):
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chatbox.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("/etc/chatbox/chatbox.toml")
ENV_PREFIX = "CHATBOX_"
REGISTRATION_POLICIES = ("open", "invite", "closed")


@dataclass(frozen=True)
class Settings:
    box_name: str = "chatbox"
    http_host: str = "0.0.0.0"
    http_port: int = 80
    data_dir: Path = Path("/var/lib/chatbox")
    ipfs_api: str = "http://127.0.0.1:5001"
    chain_rpc_url: str = "http://127.0.0.1:8545"
    chain_id: int = 1
    registry_address: str = ""
    anchor_interval: int = 600  # seconds
    anchor_confirmations: int = 3  # blocks, counting the one holding the transaction
    gas_ceiling: int = 50_000_000_000  # wei per gas
    upload_limit: int = 100 * 1024 * 1024  # bytes
    disk_reserve: int = 64 * 1024 * 1024  # bytes kept free: text stops below it, uploads at 2x
    serial_port: str = "/dev/ttyGS0"
    mdns: str = "on"  # answer as <box_name>.local and find other boxes on the LAN
    registration: str = "invite"
    log_level: str = "INFO"
    # The optional light client (systemd/chatbox-light-client.service), set up by first
    # boot; it runs only while chain_rpc_url points at it and an execution RPC is given.
    light_client_network: str = "mainnet"
    light_client_execution_rpc: str = ""  # often carries an API key: a secret
    light_client_consensus_rpc: str = ""  # empty: the light client's own default


# Settings whose values may carry credentials (RPC URLs with API keys): first boot removes
# them from the boot partition once applied, and nothing logs them.
SECRET_SETTINGS = ("chain_rpc_url", "light_client_execution_rpc", "light_client_consensus_rpc")
LIGHT_CLIENT_NETWORKS = ("mainnet", "sepolia", "holesky")


def load(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from ``path`` (if it exists) and ``environ``; validate every key."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if path is not None and path.exists():
        values.update(_read_toml(path))
    for field in fields(Settings):
        variable = ENV_PREFIX + field.name.upper()
        if variable in environ:
            values[field.name] = environ[variable]
    unknown = set(values) - {field.name for field in fields(Settings)}
    if unknown:
        raise ConfigError(sorted(unknown)[0], "unknown setting")
    return Settings(**{name: _convert(name, value) for name, value in values.items()})


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read the settings file: {exc}") from exc


def _convert(name: str, value: Any) -> Any:
    default = getattr(Settings, name)
    if isinstance(default, bool) or not isinstance(default, int | str | Path):
        raise ConfigError(name, "unsupported setting type")
    if isinstance(default, int):
        value = _integer(name, value)
    elif isinstance(default, Path):
        value = Path(str(value))
    elif not isinstance(value, str):
        raise ConfigError(name, "must be text")
    _check(name, value)
    return value


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigError(name, "must be a whole number")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(name, f"must be a whole number, not {value!r}") from None


def _check(name: str, value: Any) -> None:
    problem = _CHECKS.get(name, lambda _: None)(value)
    if problem:
        raise ConfigError(name, problem)


def _port(value: int) -> str | None:
    return None if 1 <= value <= 65535 else "must be a port number from 1 to 65535"


def _positive(value: int) -> str | None:
    return None if value > 0 else "must be greater than zero"


def _http_url(value: str) -> str | None:
    parts = urlsplit(value)
    ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    # First boot writes URLs into a systemd environment file, where these would not survive.
    ok = ok and not any(char.isspace() or char in "\"'\\" for char in value)
    return None if ok else "must be an http:// or https:// URL (spaces and quotes %-encoded)"


def _optional_url(value: str) -> str | None:
    return None if value == "" else _http_url(value)


def _loopback_url(value: str) -> str | None:
    # The Kubo RPC API is admin-level: the node only ever talks to it on this machine.
    problem = _http_url(value)
    host = urlsplit(value).hostname or ""
    if problem is None and host not in ("127.0.0.1", "localhost", "::1"):
        return "must point at the IPFS daemon on this machine (127.0.0.1)"
    return problem


def _box_name(value: str) -> str | None:
    ok = 1 <= len(value) <= 63 and value.replace("-", "").isalnum() and value.isascii()
    ok = ok and not value.startswith("-") and not value.endswith("-")
    return None if ok else "must be 1 to 63 letters, digits or '-' (a DNS label)"


def _address(value: str) -> str | None:
    if value == "":
        return None
    ok = len(value) == 42 and value.startswith("0x")
    try:
        int(value[2:], 16)
    except ValueError:
        ok = False
    return None if ok else "must be empty or a 0x-prefixed 20-byte hex address"


def _one_of(choices: tuple[str, ...]) -> Any:
    return lambda value: None if value in choices else f"must be one of {', '.join(choices)}"


_CHECKS: dict[str, Any] = {
    "box_name": _box_name,
    "http_port": _port,
    "ipfs_api": _loopback_url,
    "chain_rpc_url": _http_url,
    "chain_id": _positive,
    "registry_address": _address,
    "anchor_interval": _positive,
    "anchor_confirmations": _positive,
    "gas_ceiling": _positive,
    "upload_limit": _positive,
    "disk_reserve": _positive,
    "light_client_network": _one_of(LIGHT_CLIENT_NETWORKS),
    "light_client_execution_rpc": _optional_url,
    "light_client_consensus_rpc": _optional_url,
    "registration": _one_of(REGISTRATION_POLICIES),
    "mdns": _one_of(("on", "off")),
    "log_level": _one_of(("DEBUG", "INFO", "WARNING", "ERROR")),
}
