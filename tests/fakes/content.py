"""Fakes of the pin queue and of IPFS as a block store, for the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

from chatbox.domain.cid import raw_cid
from chatbox.errors import IpfsUnavailable, NotFound
from chatbox.ports import AddedFile, NodeIdentity, RepoStats


class FakePinQueue:
    """Entries waiting to be stored on IPFS, oldest first (a ``PinQueue``)."""

    def __init__(self) -> None:
        self.waiting: dict[str, bytes] = {}

    def add(self, raw: bytes) -> str:
        cid = raw_cid(raw)
        self.waiting[cid] = raw
        return cid

    async def outbox(self, limit: int) -> list[tuple[str, bytes, bytes | None]]:
        return [(cid, raw, None) for cid, raw in self.waiting.items()][:limit]

    async def mark_stored(self, cids: list[str]) -> None:
        for cid in cids:
            self.waiting.pop(cid, None)

    async def pending_count(self) -> int:
        return len(self.waiting)

    async def forgotten(self, limit: int) -> list[str]:
        return []

    async def gone_from_ipfs(self, cids: list[str]) -> None:
        return None


class FakeContentStore:
    """Blocks in memory; ``down`` makes every call fail as an unreachable daemon does."""

    def __init__(self) -> None:
        self.blocks: dict[str, bytes] = {}
        self.batches: list[int] = []  # blocks per put, in order
        self.down = False

    async def put_blocks(self, blocks: list[bytes]) -> str:
        self._check()
        self.batches.append(len(blocks))
        for raw in blocks:
            self.blocks[raw_cid(raw)] = raw
        return raw_cid(b"".join(blocks))

    async def put_pinned_blocks(self, blocks: list[bytes]) -> None:
        await self.put_blocks(blocks)

    async def drop(self, cid: str) -> None:
        self._check()
        self.blocks.pop(cid, None)

    async def get_block(self, cid: str, timeout: float | None = None) -> bytes:
        self._check()
        if cid not in self.blocks:
            raise NotFound("no such block", detail=cid)
        return self.blocks[cid]

    async def add_stream(self, chunks: AsyncIterator[bytes], name: str) -> AddedFile:
        self._check()
        data = b"".join([chunk async for chunk in chunks])
        cid = raw_cid(data)
        self.blocks[cid] = data
        return AddedFile(cid, len(data))

    async def cat(self, cid: str) -> AsyncIterator[bytes]:
        yield await self.get_block(cid)

    async def identity(self) -> NodeIdentity:
        self._check()
        return NodeIdentity("fake-peer", [], "fake")

    async def repo_stats(self) -> RepoStats:
        self._check()
        return RepoStats(sum(map(len, self.blocks.values())), 10**9, len(self.batches))

    def _check(self) -> None:
        if self.down:
            raise IpfsUnavailable("the fake IPFS node is down")
