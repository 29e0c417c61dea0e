"""At most once per interval for each key: how often sync answers a box, or records it."""

from __future__ import annotations

import time


class Pacer:
    def __init__(self, every: float) -> None:
        self._every = every
        self._last: dict[tuple[str, ...], float] = {}

    def due(self, *key: str) -> bool:
        """True at most once per interval for each ``key``; it then counts as done."""
        now = time.monotonic()
        if now - self._last.get(key, -self._every) < self._every:
            return False
        self._last[key] = now
        return True
