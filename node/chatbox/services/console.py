"""The serial console's shell: one command per line, plain text answers for a headless owner.

It works with the node stopped, as far as it can: ``ip``, ``wifi`` and ``help`` need only
this machine, and ``status`` then says that the node is down and why, if first boot knows.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chatbox.errors import ChatboxError, InvalidInput, Unavailable
from chatbox.ports import BoxControl, Terminal, WifiSetter
from chatbox.services.status import web_address

PROMPT = "chatbox> "
HELP = """commands:
  status           how the box is doing: node, IPFS, chain, LAN name, storage, other boxes
  ip               the box's addresses, to open it when <name>.local does not work
  peers            other chatboxes this box knows, online or when last seen
  channels         the channels on this box and how many messages each holds
  wifi SSID        join a Wi-Fi network (asks for its passphrase; quote an SSID with spaces)
  admin-code       a one-time code to set a new admin password at http://<box>/reset
  anchor-now       anchor the channels' new history on the chain now
  help             this list"""


@dataclass(frozen=True)
class LocalInfo:
    """What the console knows without the node."""

    box_name: str
    http_port: int
    addresses: Callable[[], list[str]]
    settings_problem: Callable[[], str | None]


class ConsoleShell:
    def __init__(self, box: BoxControl, wifi: WifiSetter, local: LocalInfo) -> None:
        self._box = box
        self._wifi = wifi
        self._local = local
        self._commands: dict[str, Callable[[Terminal, list[str]], Awaitable[str]]] = {
            "help": self._help,
            "status": self._status,
            "ip": self._ip,
            "peers": self._peers,
            "channels": self._channels,
            "wifi": self._wifi_command,
            "admin-code": self._admin_code,
            "anchor-now": self._anchor_now,
        }

    async def session(self, terminal: Terminal) -> None:
        """Greet, then answer lines until the terminal goes away (Disconnected)."""
        await terminal.write(f"\nchatbox console on {self._local.box_name}. Type help.\n")
        while True:
            await terminal.write(PROMPT)
            line = await terminal.read_line()
            answer = await self.answer(terminal, line)
            if answer:
                await terminal.write(answer + "\n")

    async def answer(self, terminal: Terminal, line: str) -> str:
        try:
            words = shlex.split(line)
        except ValueError as exc:
            return f"error: {exc}"
        if not words:
            return ""
        handler = self._commands.get(words[0].lower())
        if handler is None:
            return f"error: unknown command {words[0]!r}; type help for the list"
        try:
            return await handler(terminal, words[1:])
        except Unavailable as exc:
            return f"error: {exc.message}" + (f" ({exc.detail})" if exc.detail else "")
        except ChatboxError as exc:
            return f"error: {exc.message}"

    async def _help(self, terminal: Terminal, args: list[str]) -> str:
        return HELP

    async def _status(self, terminal: Terminal, args: list[str]) -> str:
        _no_arguments("status", args)
        try:
            status = await self._box.call("status")
        except Unavailable as exc:
            # The node's own status carries first boot's notices; without it, read them here.
            problem = self._local.settings_problem()
            lines = [f"node: {exc.message} ({exc.detail})"]
            lines += [f"notice: {problem}"] if problem else []
            return "\n".join([*lines, *self._urls()])
        return "\n".join(_status_lines(status))

    async def _ip(self, terminal: Terminal, args: list[str]) -> str:
        _no_arguments("ip", args)
        return "\n".join(self._urls())

    def _urls(self) -> list[str]:
        port = self._local.http_port
        lines = [f"open {web_address(f'{self._local.box_name}.local', port)} or, if that fails:"]
        lines += [f"  {web_address(address, port)}" for address in self._local.addresses()]
        return lines

    async def _peers(self, terminal: Terminal, args: list[str]) -> str:
        return await self._listing("peers", args, "no other boxes known yet", _box_line)

    async def _channels(self, terminal: Terminal, args: list[str]) -> str:
        return await self._listing("channels", args, "no channels yet", _channel_line)

    async def _listing(
        self, command: str, args: list[str], empty: str, line: Callable[[dict[str, Any]], str]
    ) -> str:
        """One line per row the node gives for ``command``, or ``empty``."""
        _no_arguments(command, args)
        rows = await self._box.call(command)
        return "\n".join(line(row) for row in rows) if rows else empty

    async def _wifi_command(self, terminal: Terminal, args: list[str]) -> str:
        if len(args) != 1:
            raise InvalidInput('usage: wifi SSID (quote it if it has spaces: wifi "My Net")')
        await terminal.write(f"passphrase for {args[0]} (empty for an open network): ")
        passphrase = await terminal.read_line(echo=False)
        await terminal.write("\n")
        return await self._wifi.connect(args[0], passphrase)

    async def _admin_code(self, terminal: Terminal, args: list[str]) -> str:
        _no_arguments("admin-code", args)
        code = await self._box.call("admin-code")
        page = web_address(self._local.addresses()[0], self._local.http_port, "/reset")
        return (
            f"reset code: {code} (valid 15 minutes, once)\n"
            f"open {page} and enter it with the admin's name"
        )

    async def _anchor_now(self, terminal: Terminal, args: list[str]) -> str:
        _no_arguments("anchor-now", args)
        return str(await self._box.call("anchor-now"))


def _no_arguments(command: str, args: list[str]) -> None:
    if args:
        raise InvalidInput(f"{command} takes no arguments (got {' '.join(args)!r})")


def _box_line(box: dict[str, Any]) -> str:
    return f"{box.get('name') or '(unnamed)'}  {box['peer_id'][-12:]}  {_availability(box)}"


def _channel_line(channel: dict[str, Any]) -> str:
    return f"{channel['name']}  {channel['visibility']}  {channel['messages']} messages"


def _availability(box: dict[str, Any]) -> str:
    if box.get("availability") == "online":
        return "online"
    if not box.get("last_seen"):
        return "never seen"
    return f"last seen {time.strftime('%Y-%m-%d %H:%M', time.localtime(box['last_seen']))}"


def _status_lines(status: dict[str, Any]) -> list[str]:
    ipfs = status["ipfs"]
    chain = status["chain"]
    mdns = status["mdns"]
    storage = status["storage"]
    sync = status["sync"]
    uptime = status["box"]["uptime_seconds"]
    hours, minutes = uptime // 3600, uptime % 3600 // 60
    lines = [
        f"node: running, version {status['version']}, up {hours} h {minutes} min",
        "ipfs: " + ("online" if ipfs.get("online") else f"offline ({ipfs.get('error')})"),
        f"chain: {chain['state']}" + (f" ({chain['detail']})" if chain.get("detail") else ""),
        f"lan name: {mdns.get('name', mdns['state'])}",
        f"storage: {storage['free_bytes'] // 2**20} MiB free of {storage['total_bytes'] // 2**20}"
        + (f" - {storage['warning']}" if storage["warning"] else ""),
        f"other boxes: {sync['online']} of {sync['boxes']} online",
        f"waiting for IPFS: {status['outbox']['pending']} messages",
    ]
    lines += [f"notice: {notice}" for notice in status.get("notices", [])]
    return lines
