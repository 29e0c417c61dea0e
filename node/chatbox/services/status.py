"""What the box reports about itself: version, uptime, IPFS, outbox, and parts not built."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from chatbox.domain.identity import fingerprint
from chatbox.errors import Unavailable
from chatbox.ports import ContentStore, LogStore
from chatbox.services.outbox import Outbox


@dataclass(frozen=True)
class BoxInfo:
    name: str
    public_key: str
    version: str
    started_at: float


class StatusService:
    def __init__(
        self, box: BoxInfo, store: LogStore, content: ContentStore, outbox: Outbox
    ) -> None:
        self._box = box
        self._store = store
        self._content = content
        self._outbox = outbox

    async def status(self) -> dict[str, Any]:
        return {
            "version": self._box.version,
            "box": {
                "name": self._box.name,
                "fingerprint": fingerprint(self._box.public_key),
                "uptime_seconds": int(time.time() - self._box.started_at),
            },
            "ipfs": await self._ipfs(),
            "outbox": {
                "pending": await self._store.pending_count(),
                "last_error": self._outbox.last_error,
            },
            "chain": {"state": "not connected", "pending_anchors": 0},
            "mdns": {"state": "not running"},
        }

    async def _ipfs(self) -> dict[str, Any]:
        try:
            node = await self._content.identity()
            repo = await self._content.repo_stats()
        except Unavailable as exc:
            return {"online": False, "error": exc.message}
        return {
            "online": True,
            "peer_id": node.peer_id,
            "agent": node.agent,
            "addresses": node.addresses,
            **asdict(repo),
        }
