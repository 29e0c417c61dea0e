"""People and channels: accounts, channels and memberships, sessions, sign-up, read marks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class AccountRecord:
    id: int
    name: str
    public_key: str
    sealing_public_key: str
    locked_keys: bytes
    is_admin: bool
    display_name: str | None = None
    state: str = "active"  # 'active', 'disabled' (may not log in) or 'removed' (keys erased)


@dataclass(frozen=True)
class PersonRecord:
    """An account as others see it: no keys."""

    id: int
    name: str
    public_key: str
    is_admin: bool
    last_seen: int
    display_name: str | None = None

    @property
    def shown_name(self) -> str:
        return self.display_name or self.name


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
    title: str = ""  # the name as written, when it differs from the normalized ``name``
    founder: str | None = None  # a private channel's founder, whose key its id binds
    follows: str | None = None  # the private channel it continues after a removal


class AccountBook(Protocol):
    """The accounts of this box, with their locked keys."""

    async def add_account(
        self,
        name: str,
        public_key: str,
        sealing_public_key: str,
        locked_keys: bytes,
        is_admin: bool,
        display_name: str | None = None,
    ) -> AccountRecord: ...
    async def account_by_name(self, name: str) -> AccountRecord | None: ...
    async def account_by_id(self, account_id: int) -> AccountRecord | None: ...
    async def account_count(self) -> int: ...
    async def accounts(self) -> list[AccountRecord]: ...
    async def set_disabled(self, account_id: int, disabled: bool) -> None:
        """Switch the account off (its sessions end) or on again."""
        ...

    async def remove_account(self, account_id: int) -> None:
        """Erase the account's keys, sessions and reset codes; keep its name."""
        ...


class ChannelBook(Protocol):
    """The channels this box holds and who belongs to each."""

    async def add_channel(self, record: ChannelRecord) -> bool: ...
    async def channel(self, channel_id: str) -> ChannelRecord | None: ...
    async def join(self, account_id: int, channel_id: str) -> None: ...
    async def joined_channel(self, account_id: int, channel_id: str) -> ChannelRecord | None:
        """The channel, if the account belongs to it: one read, as every request asks."""
        ...

    async def leave_all(self, account_id: int) -> None: ...
    async def channels_of(self, account_id: int) -> list[ChannelRecord]: ...
    async def all_channels(self) -> list[ChannelRecord]: ...
    async def memberships(self) -> list[tuple[int, str]]: ...


class SessionBook(Protocol):
    """Login sessions, kept as token hashes with sealed keys."""

    async def add_session(
        self, token_hash: bytes, account_id: int, sealed_keys: bytes, expires_at: int
    ) -> None: ...
    async def session(self, token_hash: bytes, now: int) -> SessionRecord | None: ...
    async def delete_session(self, token_hash: bytes) -> None: ...


class Registration(Protocol):
    """The box's sign-up policy, one-time sign-up codes and admin reset codes."""

    async def setting(self, key: str) -> str | None: ...
    async def set_setting(self, key: str, value: str) -> None: ...
    async def add_signup_code(self, code_hash: bytes, created_by: int, expires_at: int) -> None: ...
    async def claim_signup_code(self, code_hash: bytes, now: int) -> bool: ...
    async def release_signup_code(self, code_hash: bytes) -> None: ...
    async def spend_signup_code(self, code_hash: bytes, account_id: int) -> None: ...
    async def add_reset_code(
        self, code_hash: bytes, expires_at: int, account_id: int | None
    ) -> None: ...
    async def rekey_with_code(
        self,
        code_hash: bytes,
        now: int,
        account_id: int,
        keys: tuple[str, str, bytes],
        any_admin_code: bool,
    ) -> bool: ...


class PeopleDirectory(Protocol):
    """The people of this box as others see them: names, former names, last seen."""

    async def people(self) -> list[PersonRecord]: ...
    async def former_names(self) -> dict[str, str]: ...
    async def touch(self, account_id: int, when: int) -> None: ...
    async def set_display_name(self, account_id: int, display_name: str | None) -> None: ...


class ReadMarks(Protocol):
    """How far each member has read each channel, and which channels they muted."""

    async def mark_read(self, account_id: int, channel_id: str, clock: int) -> None: ...
    async def unread_counts(self, account_id: int) -> dict[str, int]: ...
    async def set_muted(self, account_id: int, channel_id: str, muted: bool) -> None: ...
    async def muted(self, account_id: int) -> set[str]: ...
