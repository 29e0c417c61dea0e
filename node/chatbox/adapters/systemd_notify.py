"""Readiness and watchdog messages to systemd (sd_notify(3)), for ``Type=notify`` units.

The protocol is one datagram of ``KEY=VALUE`` lines to the Unix socket named by
``$NOTIFY_SOCKET`` (a leading ``@`` names an abstract socket). Outside systemd the
variable is unset and every call does nothing, so the node runs the same by hand.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Sends state changes to the service manager that started this process, if any."""

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        self._address = _socket_address(environ.get("NOTIFY_SOCKET", ""))
        self.watchdog_interval = _watchdog_seconds(environ)

    @property
    def active(self) -> bool:
        return self._address is not None

    def ready(self, status: str) -> None:
        self._send(f"READY=1\nSTATUS={status}")

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def watchdog(self) -> None:
        self._send("WATCHDOG=1")

    def _send(self, message: str) -> None:
        if self._address is None:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message.encode(), self._address)
        except OSError as exc:
            # systemd gone (shutdown) or a stale variable: the node keeps running regardless.
            log.warning("could not notify systemd (%s): %s", message.split("=")[0], exc)


def _socket_address(value: str) -> str | bytes | None:
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    return value


def _watchdog_seconds(environ: Mapping[str, str]) -> float | None:
    """Half of WatchdogSec= (sd_watchdog_enabled(3)), when the watchdog is meant for us."""
    pid = environ.get("WATCHDOG_PID")
    if pid is not None and pid != str(os.getpid()):
        return None
    try:
        microseconds = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return microseconds / 2_000_000 if microseconds > 0 else None
