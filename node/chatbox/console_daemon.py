"""The serial console's process (``chatbox console``), apart from the node's.

It holds the serial port, reopens it after the cable is pulled, and reaches the node only
through the node's control socket, so either can restart without the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from chatbox import firstboot
from chatbox.adapters.control_socket import SOCKET_NAME, ControlClient
from chatbox.adapters.mdns import lan_addresses
from chatbox.adapters.serial_line import SerialLine
from chatbox.adapters.wifi import NetworkManagerWifi
from chatbox.config import Settings
from chatbox.errors import Disconnected
from chatbox.services.console import ConsoleShell, LocalInfo
from chatbox.signals import stop_on_signals

log = logging.getLogger(__name__)
CONSOLE_REOPEN_SECONDS = 1.0


async def run_console(
    settings: Settings,
    port: str,
    settings_file: Path,
    settings_problem: str | None,
    network_dir: Path,
) -> None:
    """The serial console on ``port`` until SIGINT or SIGTERM, reopening it after an unplug."""
    stop = stop_on_signals()
    record = settings_file.parent / firstboot.RECORD_FILE
    local = LocalInfo(
        settings.box_name,
        settings.http_port,
        lan_addresses,
        lambda: settings_problem or firstboot.read_problem(record),
    )
    shell = ConsoleShell(
        ControlClient(settings.data_dir / SOCKET_NAME), NetworkManagerWifi(network_dir), local
    )
    waiting_logged = False
    while not stop.is_set():
        line = SerialLine(port)
        try:
            line.open()
            log.info("serial console on %s", port)
            waiting_logged = False
            session = asyncio.create_task(shell.session(line))
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({session, stopped}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if session.done():
                session.result()  # raises Disconnected when the cable went
            else:
                session.cancel()
        except Disconnected as exc:
            if not waiting_logged:
                log.info("serial console: %s; waiting for it", exc.message)
                waiting_logged = True
        except Exception:
            # A fault in one session must not leave a headless box without its console.
            log.exception("serial console failed; reopening %s", port)
        finally:
            line.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), CONSOLE_REOPEN_SECONDS)
