"""The message log's roles: entries posted and read, the replica sync compares, the pin queue."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

from chatbox.domain.envelope import Envelope


@dataclass(frozen=True)
class EntryRecord:
    """One indexed entry: what the UI shows without touching IPFS."""

    cid: str
    channel_id: str
    clock: int
    author: str
    ts: int
    body: str
    stored: bool


class EntryLog(Protocol):
    """A channel's messages as posting, paging and finding them needs."""

    def append(
        self, entry: Envelope, body: str, file_cid: str | None, stored: bool
    ) -> Awaitable[bool]: ...
    async def heads(self, channel_id: str) -> list[tuple[str, int]]: ...
    async def page(
        self, channel_id: str, before: tuple[int, str] | None, limit: int
    ) -> list[EntryRecord]: ...
    async def page_after(
        self, channel_id: str, after: tuple[int, str], limit: int
    ) -> list[EntryRecord]: ...
    async def entry(self, cid: str) -> EntryRecord | None: ...
    async def entries(self, cids: list[str]) -> list[EntryRecord]: ...
    async def entry_count(self, channel_id: str) -> int: ...
    async def file_entries(self, file_cid: str) -> list[EntryRecord]: ...


class PublicTextIndex(Protocol):
    """The words of public channels' messages, as search finds them (never private ones)."""

    async def search_public(
        self, channel_ids: list[str], words: list[str], limit: int
    ) -> list[str]: ...


class LogReplica(Protocol):
    """A channel's log as sync and reindexing compare and rebuild it."""

    async def heads(self, channel_id: str) -> list[tuple[str, int]]: ...
    async def held(self, cids: list[str]) -> set[str]: ...
    async def log_links(self, channel_id: str) -> dict[str, tuple[int, list[str]]]: ...
    async def envelopes(self, cids: list[str]) -> dict[str, bytes]: ...
    async def dangling(self, channel_id: str) -> list[str]: ...
    async def replace_index(
        self, channel_id: str, entries: list[tuple[Envelope, str, str | None]]
    ) -> None: ...


class PinQueue(Protocol):
    """Entries committed here and not yet stored on IPFS: the outbox's queue."""

    async def outbox(self, limit: int) -> list[tuple[str, bytes]]: ...
    async def mark_stored(self, cids: list[str]) -> None: ...
    async def pending_count(self) -> int: ...


class StoreHealth(Protocol):
    """Whether the database still commits: what /healthz asks."""

    async def check_writable(self) -> None:
        """Unavailable unless a write would be committed now."""
        ...
