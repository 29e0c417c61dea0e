"""Request bodies read as strict JSON: UTF-8 only, bounded, and never a 500.

Quart decodes a body before it parses it, so a byte that is not UTF-8 escapes its JSON
error handling as a ``UnicodeDecodeError``; Python's ``json`` also accepts ``NaN`` and
duplicate keys. Bodies are read as the box reads JSON from other boxes (``canonical.loads``:
UTF-8, integers only, unique keys). JSON routes take a few fields, so a body far larger
than any of them is refused before it is read into memory.
"""

from __future__ import annotations

from typing import Any

from quart import Request

from chatbox.domain import canonical
from chatbox.errors import InvalidInput, TooLarge

MAX_JSON_BYTES = 64 * 1024


class StrictJsonRequest(Request):
    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if not (force or self.is_json):
            return None
        if (self.content_length or 0) > MAX_JSON_BYTES:
            raise _too_large()
        raw = await self._bounded_body()
        try:
            return canonical.loads(raw)
        except InvalidInput:
            if silent:
                return None
            raise

    async def _bounded_body(self) -> bytes:
        # A chunked body names no length: stop reading it at the bound, not at the upload limit.
        raw = bytearray()
        async for chunk in self.body:
            raw += chunk
            if len(raw) > MAX_JSON_BYTES:
                raise _too_large()
        return bytes(raw)


def _too_large() -> TooLarge:
    return TooLarge(f"a JSON body may hold at most {MAX_JSON_BYTES // 1024} KiB")
