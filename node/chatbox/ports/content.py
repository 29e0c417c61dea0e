"""The IPFS node as content-addressed storage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class AddedFile:
    cid: str
    dag_size: int


@dataclass(frozen=True)
class NodeIdentity:
    peer_id: str
    addresses: list[str]
    agent: str


@dataclass(frozen=True)
class DiskUsage:
    total: int  # bytes
    free: int  # bytes an unprivileged process may still write


@dataclass(frozen=True)
class RepoStats:
    repo_size: int
    storage_max: int
    pins: int  # recursive pins: one per outbox batch and one per file


class ContentStore(Protocol):
    """Content-addressed storage with pinning: the IPFS node."""

    async def put_blocks(self, blocks: list[bytes]) -> str: ...
    async def put_pinned_blocks(self, blocks: list[bytes]) -> None: ...
    async def drop(self, cid: str) -> None: ...
    async def get_block(self, cid: str, timeout: float | None = None) -> bytes: ...
    async def add_stream(self, chunks: AsyncIterator[bytes], name: str) -> AddedFile: ...
    def cat(self, cid: str) -> AsyncIterator[bytes]: ...
    async def identity(self) -> NodeIdentity: ...
    async def repo_stats(self) -> RepoStats: ...
