"""What the serial console drives: its terminal, the running node, the Wi-Fi."""

from __future__ import annotations

from typing import Any, Protocol


class Terminal(Protocol):
    """A line-oriented terminal (the serial console); ``Disconnected`` when it goes away."""

    async def read_line(self, echo: bool = True) -> str: ...
    async def write(self, text: str) -> None: ...


class BoxControl(Protocol):
    """The running node, as the console reaches it: ``call("status")`` and the like."""

    async def call(self, command: str) -> Any: ...


class WifiSetter(Protocol):
    async def connect(self, ssid: str, passphrase: str) -> str: ...
