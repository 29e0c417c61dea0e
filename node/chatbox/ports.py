"""The seams the services depend on, and the plain records that cross them.

Adapters implement these protocols; the services never see a library type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Protocol

from chatbox.domain.envelope import Envelope


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
class RepoStats:
    repo_size: int
    objects: int
    storage_max: int
    pins: int  # recursive pins: one per outbox batch and one per file


@dataclass(frozen=True)
class AccountRecord:
    id: int
    name: str
    public_key: str
    sealing_public_key: str
    locked_keys: bytes
    is_admin: bool


@dataclass(frozen=True)
class PersonRecord:
    """An account as others see it: no keys."""

    id: int
    name: str
    public_key: str
    is_admin: bool
    last_seen: int


@dataclass(frozen=True)
class SessionRecord:
    account_id: int
    sealed_keys: bytes
    expires_at: int


@dataclass(frozen=True)
class ChannelRecord:
    id: str
    name: str
    visibility: str
    sealed_key: bytes | None


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


class ContentStore(Protocol):
    """Content-addressed storage with pinning: the IPFS node."""

    async def put_blocks(self, blocks: list[bytes]) -> str: ...
    async def get_block(self, cid: str, timeout: float | None = None) -> bytes: ...
    async def add_stream(self, chunks: AsyncIterator[bytes], name: str) -> AddedFile: ...
    def cat(self, cid: str) -> AsyncIterator[bytes]: ...
    async def identity(self) -> NodeIdentity: ...
    async def repo_stats(self) -> RepoStats: ...


class LogStore(Protocol):
    """Durable local state: accounts, channels, memberships, the message index, heads."""

    async def add_account(
        self,
        name: str,
        public_key: str,
        sealing_public_key: str,
        locked_keys: bytes,
        is_admin: bool,
    ) -> AccountRecord: ...
    async def account_by_name(self, name: str) -> AccountRecord | None: ...
    async def account_by_id(self, account_id: int) -> AccountRecord | None: ...
    async def account_count(self) -> int: ...
    async def add_channel(self, record: ChannelRecord) -> bool: ...
    async def channel(self, channel_id: str) -> ChannelRecord | None: ...
    async def join(self, account_id: int, channel_id: str) -> None: ...
    async def is_member(self, account_id: int, channel_id: str) -> bool: ...
    async def channels_of(self, account_id: int) -> list[ChannelRecord]: ...
    async def all_channels(self) -> list[ChannelRecord]: ...
    def append(
        self, entry: Envelope, body: str, file_cid: str | None, stored: bool
    ) -> Awaitable[bool]: ...
    async def heads(self, channel_id: str) -> list[tuple[str, int]]: ...
    async def page(
        self, channel_id: str, before: tuple[int, str] | None, limit: int
    ) -> list[EntryRecord]: ...
    async def entry(self, cid: str) -> EntryRecord | None: ...
    async def file_entries(self, file_cid: str) -> list[EntryRecord]: ...
    async def outbox(self, limit: int) -> list[tuple[str, bytes]]: ...
    async def mark_stored(self, cids: list[str]) -> None: ...
    async def pending_count(self) -> int: ...
    async def entry_count(self, channel_id: str) -> int: ...
    async def replace_index(
        self, channel_id: str, entries: list[tuple[Envelope, str, str | None]]
    ) -> None: ...


class AccountStore(Protocol):
    """Durable state about people: sessions, sign-up codes, settings, read positions."""

    async def people(self) -> list[PersonRecord]: ...
    async def touch(self, account_id: int, when: int) -> None: ...
    async def add_session(
        self, token_hash: bytes, account_id: int, sealed_keys: bytes, expires_at: int
    ) -> None: ...
    async def session(self, token_hash: bytes, now: int) -> SessionRecord | None: ...
    async def delete_session(self, token_hash: bytes) -> None: ...
    async def setting(self, key: str) -> str | None: ...
    async def set_setting(self, key: str, value: str) -> None: ...
    async def add_signup_code(self, code_hash: bytes, created_by: int, expires_at: int) -> None: ...
    async def claim_signup_code(self, code_hash: bytes, now: int) -> bool: ...
    async def release_signup_code(self, code_hash: bytes) -> None: ...
    async def spend_signup_code(self, code_hash: bytes, account_id: int) -> None: ...
    async def mark_read(self, account_id: int, channel_id: str, clock: int) -> None: ...
    async def unread_counts(self, account_id: int) -> dict[str, int]: ...
