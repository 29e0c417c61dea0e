"""Channels: create, join, list, and private-channel invites.

Private channel keys rest in SQLite sealed with the box vault key, bound to their id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from chatbox.domain import channels as domain
from chatbox.domain.channels import Channel
from chatbox.domain.sealing import open_sealed, seal
from chatbox.errors import Conflict, Forbidden, InvalidInput, NotFound
from chatbox.ports import ChannelBook, ChannelRecord, ReadMarks
from chatbox.services.accounts import Member
from chatbox.services.directory import RegistryDirectory


@dataclass(frozen=True)
class Listed:
    """A public channel in the directory: whether the member joined it, and where it is
    known from (``box``: held here; ``chain``: only listed by the registry so far)."""

    channel: Channel
    joined: bool
    source: Literal["box", "chain"]


class ChannelService:
    def __init__(
        self,
        book: ChannelBook,
        read_marks: ReadMarks,
        vault_key: bytes,
        directory: RegistryDirectory,
    ) -> None:
        self._book = book
        self._read_marks = read_marks
        self._vault_key = vault_key
        self._directory = directory
        self._on_added: list[Callable[[], None]] = []
        self._on_registered: list[Callable[[Member, Channel], Awaitable[None]]] = []
        self._may_create_public: Callable[[Member], Awaitable[bool]] | None = None
        self._no_link: Callable[[str], Awaitable[bool]] | None = None
        self._member_joined: list[Callable[[Member, Channel], Awaitable[None]]] = []

    def on_member_joined(self, listener: Callable[[Member, Channel], Awaitable[None]]) -> None:
        """Await ``listener`` when a member makes or joins a private channel by its link
        (moderation has them say so in its log, with the key to seal a new key to)."""
        self._member_joined.append(listener)

    def keep_unlinked(self, unlinkable: Callable[[str], Awaitable[bool]]) -> None:
        """Let ``unlinkable`` name channels no invite link may carry (conversations)."""
        self._no_link = unlinkable

    def ask_before_public(self, may_create: Callable[[Member], Awaitable[bool]]) -> None:
        """Let ``may_create`` decide who makes public channels (the box's policy)."""
        self._may_create_public = may_create

    def on_added(self, react: Callable[[], None]) -> None:
        """Call ``react`` whenever this box comes to hold a channel it did not hold."""
        self._on_added.append(react)

    def on_registered(self, listener: Callable[[Member, Channel], Awaitable[None]]) -> None:
        """Await ``listener`` with each public channel made here that this box registers
        on chain, and its creator (moderation names them its founder)."""
        self._on_registered.append(listener)

    async def create(self, member: Member, name: str, visibility: str) -> Channel:
        """Create a channel and join its creator to it."""
        if visibility not in domain.VISIBILITIES:
            raise InvalidInput("visibility must be 'public' or 'private'")
        if visibility == "public":
            if self._may_create_public and not await self._may_create_public(member):
                raise Forbidden("on this box only an admin may create public channels")
            channel = domain.public_channel(name)
            if await self._book.channel(channel.id) is not None:
                raise Conflict("a public channel with that name already exists", detail=channel.id)
        else:
            channel = domain.new_private_channel(name, member.identity.public_key)
        await self._add(channel)
        await self._book.join(member.account_id, channel.id)
        if channel.is_private:
            for listener in self._member_joined:
                await listener(member, channel)
        if await self._directory.register(channel):
            for listener in self._on_registered:
                await listener(member, channel)
        return channel

    async def join_public(self, member: Member, channel_id: str) -> Channel:
        listed = self._directory.find(channel_id) if isinstance(channel_id, str) else None
        if listed is not None and await self._book.channel(listed.id) is None:
            await self._add(listed)
        channel = await self.get(channel_id)
        if channel.is_private:
            raise Forbidden("private channels are joined through an invite")
        await self._book.join(member.account_id, channel.id)
        return channel

    async def invite(self, member: Member, channel_id: str) -> str:
        """The invite token of a private channel, for its members only."""
        channel = await self.for_member(member, channel_id)
        if not channel.is_private:
            raise InvalidInput("public channels need no invite; join them by name")
        if await self.is_conversation(channel.id):
            raise Forbidden("a direct conversation is joined by no link: start a new one instead")
        return domain.encode_invite(channel)

    async def accept_invite(self, member: Member, token: str) -> Channel:
        channel = domain.decode_invite(token)
        known = await self._book.channel(channel.id)
        if known is not None and self._channel(known).key != channel.key:
            raise Forbidden("invite does not match the channel this box knows")
        if known is None:
            await self._add(channel)
        await self._book.join(member.account_id, channel.id)
        for listener in self._member_joined:
            await listener(member, channel)
        return channel

    async def hold(self, channel: Channel, account_ids: list[int]) -> None:
        """Hold ``channel`` (a conversation, whose key came without a link) and join the
        given accounts to it."""
        if await self._book.channel(channel.id) is None:
            await self._add(channel)
        for account_id in account_ids:
            await self._book.join(account_id, channel.id)

    async def accounts_in(self, channel_id: str) -> list[int]:
        """The accounts of this box that belong to the channel."""
        return [a for a, joined in await self._book.memberships() if joined == channel_id]

    async def is_conversation(self, channel_id: str) -> bool:
        return self._no_link is not None and await self._no_link(channel_id)

    async def is_member(self, account_id: int, channel_id: str) -> bool:
        return await self._book.joined_channel(account_id, channel_id) is not None

    async def joined(self, member: Member) -> list[Channel]:
        return [self._channel(record) for record in await self._book.channels_of(member.account_id)]

    async def get(self, channel_id: str) -> Channel:
        record = await self._book.channel(channel_id) if isinstance(channel_id, str) else None
        if record is None:
            raise NotFound("no such channel", detail=str(channel_id)[:80])
        return self._channel(record)

    async def leave_all(self, account_id: int) -> None:
        """Take a removed account out of every channel."""
        await self._book.leave_all(account_id)

    async def for_member(self, member: Member, channel_id: str) -> Channel:
        """The channel, if ``member`` belongs to it; unknown and forbidden look the same."""
        record = (
            await self._book.joined_channel(member.account_id, channel_id)
            if isinstance(channel_id, str)
            else None
        )
        if record is None:
            raise NotFound("no such channel", detail=str(channel_id)[:80])
        return self._channel(record)

    async def unread(self, member: Member) -> dict[str, int]:
        """Messages by others since the member last read each joined channel."""
        return await self._read_marks.unread_counts(member.account_id)

    async def set_muted(self, member: Member, channel_id: str, muted: bool) -> None:
        """Mute a channel for ``member``, or unmute it."""
        channel = await self.for_member(member, channel_id)
        await self._read_marks.set_muted(member.account_id, channel.id, muted)

    async def muted(self, member: Member) -> set[str]:
        """The ids of the channels ``member`` muted."""
        return await self._read_marks.muted(member.account_id)

    async def mark_read(self, member: Member, channel_id: str, clock: int) -> None:
        channel = await self.for_member(member, channel_id)
        await self._read_marks.mark_read(member.account_id, channel.id, clock)

    async def public_directory(self, member: Member) -> list[Listed]:
        """Public channels of this box and of the registry, with whether ``member`` joined."""
        joined = {channel.id for channel in await self.joined(member)}
        known = {
            channel.id: Listed(channel, channel.id in joined, "box")
            for channel in await self.all()
            if not channel.is_private
        }
        for channel in self._directory.listed():
            known.setdefault(channel.id, Listed(channel, channel.id in joined, "chain"))
        return sorted(known.values(), key=lambda listed: listed.channel.name)

    def registry_state(self) -> str:
        return self._directory.state()

    def registry_standing(self) -> tuple[str, int, str | None]:
        return self._directory.standing()

    async def adopt(self, channel: Channel) -> None:
        """Know ``channel`` (with its key) without anyone joining it: restore from backup."""
        await self._add(channel)

    async def all(self) -> list[Channel]:
        return [self._channel(record) for record in await self._book.all_channels()]

    async def _add(self, channel: Channel) -> None:
        await self._book.add_channel(self._record(channel))
        for react in self._on_added:
            react()

    def _record(self, channel: Channel) -> ChannelRecord:
        sealed = (
            None
            if channel.key is None
            else seal(self._vault_key, channel.key, _key_aad(channel.id))
        )
        return ChannelRecord(
            channel.id,
            channel.name,
            channel.visibility,
            sealed,
            channel.title,
            channel.founder,
            channel.follows,
        )

    def _channel(self, record: ChannelRecord) -> Channel:
        key = (
            None
            if record.sealed_key is None
            else open_sealed(self._vault_key, record.sealed_key, _key_aad(record.id))
        )
        visibility: domain.Visibility = "private" if record.visibility == "private" else "public"
        return Channel(
            record.id, record.name, visibility, key, record.title, record.founder, record.follows
        )


def _key_aad(channel_id: str) -> bytes:
    return b"chatbox-channel-key\n" + channel_id.encode("ascii")
