"""Wi-Fi through NetworkManager, which current Raspberry Pi OS uses for every network.

The console writes one keyfile connection, ``chatbox-wifi``, readable by root only (it holds
the passphrase, as every NetworkManager Wi-Fi connection does), then asks NetworkManager to
load and bring it up. Without ``nmcli`` (a stopped NetworkManager, a test machine) the file
is still written and used at the next boot.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

from chatbox.adapters.atomic import write_file
from chatbox.errors import InvalidInput, Unavailable

CONNECTION = "chatbox-wifi"
CONNECTIONS_DIR = Path("/etc/NetworkManager/system-connections")
# Stable, so setting the Wi-Fi again replaces the connection instead of adding another.
_UUID = uuid.uuid5(uuid.NAMESPACE_DNS, "chatbox-wifi.chatbox.local")
NMCLI_TIMEOUT = 45.0


class NetworkManagerWifi:
    def __init__(self, connections_dir: Path = CONNECTIONS_DIR, nmcli: str = "nmcli") -> None:
        self._dir = connections_dir
        self._nmcli = nmcli

    async def connect(self, ssid: str, passphrase: str) -> str:
        _check(ssid, passphrase)
        path = self._dir / f"{CONNECTION}.nmconnection"
        write_file(path, keyfile(ssid, passphrase).encode(), 0o600)
        if shutil.which(self._nmcli) is None:
            return f"saved {ssid}; NetworkManager is not running here, it applies at next boot"
        await self._run("connection", "load", str(path))
        await self._run("connection", "up", CONNECTION)
        return f"connected to {ssid}"

    async def _run(self, *args: str) -> None:
        process = await asyncio.create_subprocess_exec(
            self._nmcli, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            _, error = await asyncio.wait_for(process.communicate(), NMCLI_TIMEOUT)
        except TimeoutError:
            process.kill()
            raise Unavailable("NetworkManager did not answer in time") from None
        if process.returncode != 0:
            # nmcli's message names the network, never the passphrase.
            raise Unavailable(
                "the Wi-Fi was saved but did not come up", detail=error.decode()[:200]
            )


def keyfile(ssid: str, passphrase: str) -> str:
    lines = [
        "[connection]",
        f"id={CONNECTION}",
        f"uuid={_UUID}",
        "type=wifi",
        "autoconnect=true",
        "autoconnect-priority=10",
        "",
        "[wifi]",
        "mode=infrastructure",
        f"ssid={_escaped(ssid)}",
        "",
    ]
    if passphrase:
        lines += ["[wifi-security]", "key-mgmt=wpa-psk", f"psk={_escaped(passphrase)}", ""]
    lines += ["[ipv4]", "method=auto", "", "[ipv6]", "method=auto", ""]
    return "\n".join(lines)


def _check(ssid: str, passphrase: str) -> None:
    if not 1 <= len(ssid.encode()) <= 32:
        raise InvalidInput("an SSID is 1 to 32 bytes long")
    if any(ord(character) < 32 for character in ssid + passphrase):
        raise InvalidInput("the SSID and passphrase cannot hold control characters")
    is_hex_key = len(passphrase) == 64 and all(c in "0123456789abcdefABCDEF" for c in passphrase)
    if passphrase and not ((8 <= len(passphrase) <= 63 and passphrase.isascii()) or is_hex_key):
        raise InvalidInput("a WPA passphrase is 8 to 63 characters (or 64 hex digits)")


def _escaped(value: str) -> str:
    # GKeyFile escapes: backslash, and a leading space that would otherwise be dropped.
    value = value.replace("\\", "\\\\")
    return "\\s" + value[1:] if value.startswith(" ") else value
