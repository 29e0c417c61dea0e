"""The message log's roles: entries posted and read, the replica sync compares, the pin queue."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

from chatbox.domain.envelope import Envelope
from chatbox.domain.relations import Said


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
    kind: str = "message"  # message, reply, edit, react, delete or mod
    target: str | None = None  # the entry a reply, edit, reaction or delete is about
    reaction: str | None = None
    reaction_on: bool = False
    content: bytes | None = None  # the content block (sealed in private channels)
    deleted: bool = False
    content_cid: str | None = None  # the block the envelope names, held or not


@dataclass(frozen=True)
class IndexedEntry:
    """A verified entry and what the index keeps of it, as the node understood it."""

    entry: Envelope
    kind: str = "message"
    target: str | None = None
    reaction: str | None = None
    reaction_on: bool = False
    content: bytes | None = None  # the content block as it travels
    content_cid: str | None = None
    file_cid: str | None = None
    words: str | None = None  # what public search indexes; never set in a private channel


class EntryLog(Protocol):
    """A channel's messages as posting, paging and finding them needs."""

    def append(self, indexed: IndexedEntry, stored: bool) -> Awaitable[bool]: ...
    async def heads(self, channel_id: str) -> list[tuple[str, int]]: ...
    async def page(
        self,
        channel_id: str,
        before: tuple[int, str] | None,
        limit: int,
        with_replies: bool = False,
    ) -> list[EntryRecord]: ...
    async def page_after(
        self, channel_id: str, after: tuple[int, str], limit: int
    ) -> list[EntryRecord]: ...
    async def entry(self, cid: str) -> EntryRecord | None: ...
    async def entries(self, cids: list[str]) -> list[EntryRecord]: ...
    async def message_count(self, channel_id: str) -> int: ...
    async def file_entries(self, file_cid: str) -> list[EntryRecord]: ...


class EntryRelations(Protocol):
    """What is said about messages: the replies, edits, reactions and deletes naming them."""

    async def about(self, targets: list[str]) -> list[Said]: ...


class ModerationLog(Protocol):
    """What moderation folds and carries out: a channel's acts, the deletes of others'
    messages, what was written lately, the log's links, and dropping what was said."""

    async def acts(self, channel_id: str) -> list[EntryRecord]: ...
    async def deletes_of_others(self, channel_id: str) -> list[tuple[str, int, str, str]]: ...
    async def written_since(
        self, channel_id: str, kinds: tuple[str, ...], author: str | None, after: int
    ) -> list[tuple[str, str, int, int]]: ...
    async def deleted_by_others(self, cids: list[str]) -> bool: ...
    async def ancestors(self, cid: str) -> tuple[set[str], set[str]]: ...
    async def forget(self, cids: list[str]) -> None: ...


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
    async def contents(self, cids: list[str]) -> dict[str, bytes]: ...
    async def dangling(self, channel_id: str) -> list[str]: ...
    async def replace_index(self, channel_id: str, entries: list[IndexedEntry]) -> None: ...


class PinQueue(Protocol):
    """Entries committed here and not yet stored on IPFS, and blocks a delete dropped that
    IPFS still holds: the outbox's two queues. ``outbox`` gives (cid, envelope, content
    block or None)."""

    async def outbox(self, limit: int) -> list[tuple[str, bytes, bytes | None]]: ...
    async def mark_stored(self, cids: list[str]) -> None: ...
    async def pending_count(self) -> int: ...
    async def forgotten(self, limit: int) -> list[str]: ...
    async def gone_from_ipfs(self, cids: list[str]) -> None: ...


class StoreHealth(Protocol):
    """Whether the database still commits: what /healthz asks."""

    async def check_writable(self) -> None:
        """Unavailable unless a write would be committed now."""
        ...
