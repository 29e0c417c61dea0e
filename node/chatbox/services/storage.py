"""The disk reserve: a box that fills its SD card must stay a working chat box.

Uploads stop first (they need their size plus twice the reserve free), text messages keep
flowing until the reserve itself is reached, and the status page warns from the moment
uploads stop. Refusing before writing means SQLite and IPFS never meet a full disk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from chatbox.errors import StorageFull
from chatbox.ports import DiskUsage

UPLOAD_RESERVE_FACTOR = 2
CHECK_EVERY = 1024 * 1024  # bytes of an upload between two looks at the free space


class StorageGuard:
    def __init__(self, usage: Callable[[], DiskUsage], reserve: int) -> None:
        self._usage = usage
        self.reserve = reserve

    def require_for_text(self) -> None:
        free = self._usage().free
        if free < self.reserve:
            raise StorageFull(
                "the box's storage is full; ask its owner to free space",
                detail=f"{free} bytes free, {self.reserve} kept in reserve",
            )

    def require_for_upload(self, expected: int = 0) -> None:
        free = self._usage().free
        needed = expected + UPLOAD_RESERVE_FACTOR * self.reserve
        if free < needed:
            raise StorageFull(
                "the box is nearly out of storage, so it takes no more files; "
                "text messages still work",
                detail=f"{free} bytes free, {needed} needed",
            )

    async def watch(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """Pass an upload through, stopping it once the free space nears the reserve."""
        since_check = 0
        async for chunk in chunks:
            since_check += len(chunk)
            if since_check >= CHECK_EVERY:
                since_check = 0
                self.require_for_upload()
            yield chunk

    def status(self) -> dict[str, Any]:
        usage = self._usage()
        if usage.free < self.reserve:
            state, warning = "full", "Storage is full: new messages are refused."
        elif usage.free < UPLOAD_RESERVE_FACTOR * self.reserve:
            state, warning = "low", "Storage is low: files are refused, text still works."
        else:
            state, warning = "ok", ""
        return {
            "state": state,
            "warning": warning,
            "free_bytes": usage.free,
            "total_bytes": usage.total,
            "reserve_bytes": self.reserve,
        }
