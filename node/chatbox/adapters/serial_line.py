"""The serial console's port (pyserial): the USB-gadget port /dev/ttyGS0 or the UART.

The port is in raw mode, so this side echoes what is typed (except secrets) and handles
backspace itself, as a terminal user on the other end expects. A read or write failure
(the cable pulled, the gadget port gone) becomes ``Disconnected``; the caller reopens.
"""

from __future__ import annotations

import asyncio
import contextlib
import termios

import serial

from chatbox.errors import Disconnected

BAUD_RATE = 115200
READ_TIMEOUT = 0.25  # seconds: how often a blocked read looks at whether to stop
WRITE_TIMEOUT = 5.0
MAX_LINE = 1024
_BACKSPACE = (b"\x08", b"\x7f")
_CANCEL = b"\x03"  # Ctrl-C drops the line being typed
# What a vanished port raises: pyserial's own error, the OS's, and termios's (tcdrain and
# tcsetattr on a dead tty raise termios.error, which is neither of the others).
_GONE = (serial.SerialException, OSError, termios.error)


class SerialLine:
    def __init__(self, port: str) -> None:
        self.port = port
        self._serial: serial.Serial | None = None
        self._closing = False
        self._after_cr = False  # a terminal may send CR LF for one Enter

    def open(self) -> None:
        """Open the port; Disconnected if it is not there (yet)."""
        try:
            self._serial = serial.Serial(
                self.port, BAUD_RATE, timeout=READ_TIMEOUT, write_timeout=WRITE_TIMEOUT
            )
        except _GONE as exc:
            raise Disconnected(f"cannot open {self.port}", detail=str(exc)) from exc

    def close(self) -> None:
        self._closing = True
        if self._serial is not None:
            with contextlib.suppress(*_GONE):  # gone with the cable
                self._serial.close()
            self._serial = None

    async def write(self, text: str) -> None:
        data = text.replace("\n", "\r\n").encode("utf-8", "replace")
        await asyncio.to_thread(self._write, data)

    async def read_line(self, echo: bool = True) -> str:
        return await asyncio.to_thread(self._read_line, echo)

    def _write(self, data: bytes) -> None:
        port = self._port()
        try:
            port.write(data)
            port.flush()
        except _GONE as exc:
            raise Disconnected(f"{self.port} went away", detail=str(exc)) from exc

    def _read_line(self, echo: bool) -> str:
        port = self._port()
        line = bytearray()
        while not self._closing:
            try:
                byte = port.read(1)
            except _GONE as exc:
                raise Disconnected(f"{self.port} went away", detail=str(exc)) from exc
            if not byte:
                continue
            if byte == b"\n" and self._after_cr:
                self._after_cr = False
                continue
            self._after_cr = byte == b"\r"
            if byte in (b"\r", b"\n"):
                if echo:
                    self._write(b"\r\n")
                return line.decode("utf-8", "replace")
            if byte in _BACKSPACE:
                if line:
                    line.pop()
                    if echo:
                        self._write(b"\x08 \x08")
            elif byte == _CANCEL:
                line.clear()
                self._write(b"^C\r\n")
                return ""
            elif len(line) < MAX_LINE and byte >= b" ":
                line += byte
                if echo:
                    self._write(byte)
        raise Disconnected(f"{self.port} closed")

    def _port(self) -> serial.Serial:
        if self._serial is None:
            raise Disconnected(f"{self.port} is not open")
        return self._serial
