"""Moderation: removing others' messages, appointing moderators and banning keys, each act
signed into the channel's log, and what the counted acts ask carried out on this box
whoever signed them (the rules: domain/moderation.py, docs/PROTOCOL.md section 5.2).

A public channel's first moderators are its founders, whom the box that registered the
channel on chain names with a signature of its chain account: the channel's creator when
the channel is made here, and this box's admins when they first act in a channel this box
registered. A private channel's founder is the key its id binds; its members say so with a
``join`` act, and removing one continues the channel under a new key sealed to the rest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from chatbox.domain.channels import Channel, successor_channel
from chatbox.domain.direct import make_card
from chatbox.domain.moderation import (
    Act,
    Ban,
    ChannelSettings,
    Moderation,
    Start,
    barred,
    check_settings,
    fold,
    founder_statement,
)
from chatbox.errors import (
    ChatboxError,
    Conflict,
    Forbidden,
    InvalidEnvelope,
    InvalidInput,
    NotFound,
)
from chatbox.ports import Chain, EntryLog, IndexedEntry, ModerationLog
from chatbox.services.accounts import Member
from chatbox.services.channels import ChannelService
from chatbox.services.directory import RegistryDirectory
from chatbox.services.message_bodies import open_body
from chatbox.services.messages import MessageService
from chatbox.services.outbox import Outbox

log = logging.getLogger(__name__)
# (the remover, the channel, its successor, the members left: key -> card)
Continuation = Callable[[Member, Channel, Channel, dict[str, dict[str, Any]]], Awaitable[None]]
_KEY = re.compile(r"[0-9a-f]{64}")
_ACT_ON_KEYS = ("appoint", "dismiss", "ban", "unban")
_POSTS = ("message", "reply", "edit")  # what a channel closed to all but moderators refuses
_BANNED_KINDS = (*_POSTS, "react")  # what a banned key writes that can count


@dataclass(frozen=True)
class ChannelModeration:
    """What a member sees of a channel's moderation."""

    founders: list[str]
    moderators: list[str]
    banned: list[str]
    you_moderate: bool  # or may, as an admin of the box that registered the channel
    available: bool  # False where the registry cannot say who founded the channel
    members: list[str]  # a private channel's: those who joined and were not removed
    successor: str | None  # the channel this one continues as, after a removal
    removed: bool  # the member was removed from it


class ModerationService:
    def __init__(
        self,
        acts: ModerationLog,
        entries: EntryLog,
        channels: ChannelService,
        messages: MessageService,
        directory: RegistryDirectory,
        chain: Chain | None,
        outbox: Outbox,
    ) -> None:
        self._acts = acts
        self._entries = entries
        self._channels = channels
        self._messages = messages
        self._directory = directory
        self._chain = chain
        self._outbox = outbox
        self._folded: dict[str, Moderation] = {}
        # channel id -> the newest entry (its rowid) weighed against the bans folded now
        self._looked: dict[str, int] = {}
        self._waiting: set[str] = set()  # channels whose bans wait for missing entries
        self._founding: dict[str, bool] = {}  # founding act's CID -> whether its proof holds
        self._continued: list[Continuation] = []
        self._removing: dict[str, asyncio.Lock] = {}  # one removal at a time per channel
        self._follows: dict[str, str] = {}  # successor -> the channel its fold starts from
        self._heard_continued: list[Callable[[Channel], Awaitable[None]]] = []

    def on_heard_continued(self, listener: Callable[[Channel], Awaitable[None]]) -> None:
        """Await ``listener(channel)`` when a removal from another box says the channel goes
        on as a successor: a grant of its key that waited may now be opened."""
        self._heard_continued.append(listener)

    async def successor_of(self, channel: Channel) -> str | None:
        return (await self.state(channel)).successor

    def on_continued(self, listener: Continuation) -> None:
        """Await ``listener(remover, channel, successor, members)`` once a removal here
        continues a private channel: the members left (key -> card) need its new key."""
        self._continued.append(listener)

    # What members do.

    async def view(self, member: Member, channel_id: str) -> ChannelModeration:
        channel = await self._channels.for_member(member, channel_id)
        folded = await self.state(channel)
        key = member.identity.public_key
        return ChannelModeration(
            founders=sorted(folded.founders),
            moderators=sorted(folded.moderators),
            banned=sorted(k for k in folded.bans if folded.is_banned(k)),
            you_moderate=key in folded.moderators or self._may_found(member, channel),
            available=await self._founded(channel),
            members=sorted(folded.members),
            successor=folded.successor,
            removed=key in folded.removed,
        )

    async def delete(self, member: Member, cid: str) -> None:
        """Delete a message: one's own, or, as a moderator, anyone's."""
        message = await self._messages.find(member, cid)  # NotFound outside one's channels
        if message.author == member.identity.public_key:
            await self._messages.delete(member, cid)
            return
        channel = await self._channels.for_member(member, message.channel_id)
        if message.deleted:
            raise Conflict("that message was deleted", detail=cid)
        await self._require_moderator(member, channel)
        await self._messages.append_entry(member, channel, {"delete": cid})
        await self.enforce(channel)

    async def act(self, member: Member, channel_id: str, act: str, key: str) -> ChannelModeration:
        """Appoint or dismiss a moderator, ban a key or lift its ban."""
        if act not in _ACT_ON_KEYS:
            raise InvalidInput("unknown moderation act", detail=str(act)[:20])
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise InvalidInput("a key is 64 lower-case hex characters")
        channel = await self._channels.for_member(member, channel_id)
        await self._require_moderator(member, channel)
        folded = await self.state(channel)
        _check_meaningful(act, key, folded)
        await self._messages.append_entry(member, channel, {"mod": {"act": act, "key": key}})
        self._forget_fold(channel.id)
        await self.enforce(channel)
        return await self.view(member, channel_id)

    async def joined(self, member: Member, channel: Channel) -> None:
        """Say in a private channel's log that ``member`` belongs to it, with their card:
        whoever removes someone later seals the new key to it."""
        if not channel.is_private or not await self._founded(channel):
            return
        card = make_card(member.identity).as_json()
        folded = await self.state(channel)
        if folded.members.get(member.identity.public_key) == card or folded.successor:
            return
        await self._messages.append_entry(member, channel, {"mod": {"act": "join", "card": card}})
        self._forget_fold(channel.id)

    async def remove(self, member: Member, channel_id: str, key: str) -> Channel:
        """Remove a member from a private channel (a moderator may): their key is banned,
        and the channel goes on as its successor, whose new key only the others receive.
        Returns the successor."""
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise InvalidInput("a key is 64 lower-case hex characters")
        channel = await self._channels.for_member(member, channel_id)
        if not channel.is_private or not await self._founded(channel):
            raise InvalidInput("only a private channel's members can be removed from it")
        await self._require_moderator(member, channel)
        folded = await self.state(channel)
        if folded.successor is not None:
            raise Conflict("this channel goes on as a new one already: remove them there")
        if key == member.identity.public_key or key in folded.moderators:
            raise Conflict("a moderator cannot be removed: dismiss them first", detail=key)
        if key not in folded.members:
            raise NotFound("that key is not a member of this channel", detail=key)
        async with self._removing.setdefault(channel.id, asyncio.Lock()):
            return await self._remove(member, channel, key)

    async def _remove(self, member: Member, channel: Channel, key: str) -> Channel:
        folded = await self.state(channel)
        if folded.successor is not None:  # another removal came first
            raise Conflict("this channel goes on as a new one already: remove them there")
        successor = successor_channel(channel)
        act = {"act": "remove", "key": key, "to": successor.id}
        await self._messages.append_entry(member, channel, {"mod": act})
        self._forget_fold(channel.id)
        after = await self.state(channel)
        if after.successor != successor.id:  # one from another box sorts first in the log
            raise Conflict("another moderator's removal came first: the channel goes on there")
        left = {k: card for k, card in after.members.items() if k not in after.removed}
        left = {k: card for k, card in left.items() if not after.is_banned(k)}
        for listener in self._continued:
            await listener(member, channel, successor, left)
        await self.enforce(channel)
        return successor

    async def found(self, member: Member, channel: Channel) -> None:
        """Name ``member`` a founder of a public channel this box registers or registered."""
        if self._chain is None or channel.is_private:
            return
        proof = self._chain.sign_statement(
            founder_statement(channel.id, member.identity.public_key)
        )
        await self._messages.append_entry(
            member, channel, {"mod": {"act": "found", "proof": proof}}
        )
        self._forget_fold(channel.id)

    async def may_write(self, member: Member, channel: Channel, body: dict[str, Any]) -> None:
        """Refuse a banned key's writing, and a post where only moderators may post
        (MessageService asks before each entry)."""
        folded = await self.state(channel)
        key = member.identity.public_key
        if key in folded.removed:
            raise Forbidden("a moderator removed you from this channel", detail=channel.id)
        if folded.successor is not None:
            raise Forbidden(
                "this channel goes on as a new one since a member was removed: write there",
                detail=folded.successor,
            )
        if folded.is_banned(key):
            raise Forbidden("a moderator banned you from this channel", detail=channel.id)
        posts = "content" in body or "text" in body or "file" in body
        if posts and not folded.may_post(key):
            raise Forbidden("only moderators may post in this channel", detail=channel.id)

    async def settings(self, member: Member, channel_id: str) -> ChannelSettings:
        """The channel's topic, description and pinned messages, as its log last set them."""
        channel = await self._channels.for_member(member, channel_id)
        return (await self.state(channel)).settings

    async def may_post(self, member: Member, channel_id: str) -> bool:
        """Whether ``member`` may write messages in the channel now."""
        channel = await self._channels.for_member(member, channel_id)
        return (await self.state(channel)).may_post(member.identity.public_key)

    async def set_settings(
        self,
        member: Member,
        channel_id: str,
        topic: str,
        description: str,
        pinned: list[str],
        posting: str,
    ) -> ChannelSettings:
        """Set the channel's topic, description, pinned messages and who may post (a
        moderator may)."""
        channel = await self._channels.for_member(member, channel_id)
        pins = list(dict.fromkeys(pinned)) if isinstance(pinned, list) else pinned
        value: dict[str, Any] = {
            "act": "settings",
            "topic": topic.strip() if isinstance(topic, str) else topic,
            "description": description.strip() if isinstance(description, str) else description,
            "pinned": pins,
            "posting": posting,
        }
        try:
            check_settings(value)
        except InvalidEnvelope as exc:
            raise InvalidInput(exc.message, detail=exc.detail) from exc
        held = {r.cid: r for r in await self._entries.entries(pins)}
        for cid in pins:
            record = held.get(cid)
            if record is None or record.channel_id != channel.id or record.kind != "message":
                raise NotFound("no such message in this channel to pin", detail=cid)
            if record.deleted:
                raise Conflict("a deleted message cannot be pinned", detail=cid)
        await self._require_moderator(member, channel)
        await self._messages.append_entry(member, channel, {"mod": value})
        self._forget_fold(channel.id)
        return (await self.state(channel)).settings

    # What arrives from peers.

    async def screen(self, channel: Channel, opened: list[IndexedEntry]) -> list[InvalidEnvelope]:
        """Refuse, and count against the sender, acts the log does not let their author
        make: a founding proof the registry's creator did not sign, an act from a key that
        does not moderate there. Their envelopes are kept all the same, counting for
        nothing: a hole in the log would stall every ban whose history runs through it,
        or make this box see less of that history than the others do.

        An act is judged only once all its ancestors are here (an appointment may still be
        on its way), and only while the registry lists the channel."""
        if all(indexed.kind != "mod" for indexed in opened):
            return []
        if not await self._founded(channel):
            return []
        stored = await self._stored_acts(channel)
        arriving = [
            _act(channel, i.entry.cid, i.entry.clock, i.entry.author, i.entry.body)
            for i in opened
            if i.kind == "mod"
        ]
        start = await self._start(channel)
        folded = fold([*stored, *arriving], partial(self._is_founding, channel), None, start)
        unauthorized = set(folded.unauthorized)
        here = {indexed.entry.cid: indexed.entry for indexed in opened}
        known: dict[str, bool] = {}  # parent -> whether its whole past is here, once asked
        reasons = []
        for act in arriving:
            if act.cid in unauthorized and await self._whole_past(here[act.cid].prev, here, known):
                reasons.append(
                    InvalidEnvelope(
                        "a moderation act from a key that does not moderate", detail=act.cid
                    )
                )
        return reasons

    async def _whole_past(
        self, prev: tuple[str, ...], arriving: dict[str, Any], known: dict[str, bool]
    ) -> bool:
        """Whether this box holds every ancestor of an entry with these parents (counting
        those arriving with it); ``known`` keeps the answers for the rest of the batch."""
        for parent in prev:
            if parent not in known:
                if parent in arriving:
                    known[parent] = await self._whole_past(arriving[parent].prev, arriving, known)
                else:
                    _, missing = await self._acts.ancestors(parent)
                    known[parent] = not missing and bool(await self._entries.entries([parent]))
            if not known[parent]:
                return False
        return True

    async def arrived(self, channel: Channel, added: list[IndexedEntry]) -> None:
        """Carry out what new entries from peers ask: acts, deletes, a banned key's posts."""
        continued_before = (await self.state(channel)).successor
        if any(indexed.kind == "mod" for indexed in added):
            self._forget_fold(channel.id)
        folded = await self.state(channel)
        if folded.successor is not None and continued_before is None:
            for listener in self._heard_continued:
                await listener(channel)
        if channel.id in self._waiting or any(
            indexed.kind in ("mod", "delete")
            or indexed.entry.author in folded.bans
            or (folded.closings and indexed.kind in _POSTS)
            for indexed in added
        ):
            await self.enforce(channel)
            return
        # A moderator's delete may have come before its message (heads arrive first).
        posted = [i.entry.cid for i in added if i.kind in ("message", "reply")]
        if folded.moderators and posted and await self._acts.deleted_by_others(posted):
            await self.enforce(channel)

    # Carrying it out.

    async def state(self, channel: Channel) -> Moderation:
        """The channel's moderation folded from its log (cached until an act arrives, and
        while a dismissal's history is incomplete, not cached at all)."""
        folded = self._folded.get(channel.id)
        if folded is not None:
            return folded
        acts = await self._stored_acts(channel)
        start = await self._start(channel)
        folded = fold(acts, lambda act: self._is_founding(channel, act), None, start)
        whole = True
        if folded.dismissals:
            seen: dict[str, set[str]] = {}
            for dismissals in folded.dismissals.values():
                for dismissal in dismissals:
                    seen[dismissal.cid], missing = await self._acts.ancestors(dismissal.cid)
                    whole = whole and not missing
            folded = fold(acts, lambda act: self._is_founding(channel, act), seen, start)
        if whole:
            self._folded[channel.id] = folded
        return folded

    async def enforce(self, channel: Channel) -> list[str]:
        """Drop what counted deletes of others' messages and bans ask; returns the CIDs
        dropped. Run again whenever the acts change, so it asks only what is still to do."""
        folded = await self.state(channel)
        dropped = [
            target
            for delete, clock, author, target in await self._acts.deletes_of_others(channel.id)
            if folded.may_act(author, (clock, delete), delete)
        ]
        ancestry: dict[str, tuple[set[str], set[str]]] = {}

        async def whole_ancestry(cid: str) -> bool:
            """Read ``cid``'s ancestors; False while some have not arrived."""
            if cid not in ancestry:
                ancestry[cid] = await self._acts.ancestors(cid)
            return not ancestry[cid][1]

        # Who may not write what: each banned key, and, in a channel where only moderators
        # post, every key that does not moderate.
        restrictions: list[tuple[str | None, list[Ban], tuple[str, ...]]] = [
            (key, bans, _BANNED_KINDS) for key, bans in folded.bans.items()
        ]
        if folded.closings:
            restrictions.append((None, folded.closings, _POSTS))
        # Only what arrived since the last look is weighed (all of it again once the acts
        # change): a walk of the log's links costs a walk of its history.
        since = self._looked.get(channel.id, 0)
        newest, waiting = since, False
        for key, bans, kinds in restrictions:
            written = await self._acts.written_since(channel.id, kinds, key, since)
            newest = max([newest, *(rowid for *_, rowid in written)])
            if key is None:  # moderators post in a channel closed to others
                written = [w for w in written if not folded.may_act(w[1], (w[2], w[0]), w[0])]
            if not written:
                continue
            # Whether an entry was an ancestor of a ban cannot be told while the links in
            # between are missing (heads arrive before what they name): what is dropped
            # stays dropped, so the decision waits for the rest of the log.
            if not all([await whole_ancestry(ban.cid) for ban in bans]):
                waiting = True
                continue
            lifted = any(ban.lifted_by for ban in bans)
            for cid, *_ in written:
                if lifted and not await whole_ancestry(cid):  # an unban may be among them
                    waiting = True
                elif barred(cid, bans, lambda c: ancestry.get(c, (set(), set()))[0]):
                    dropped.append(cid)
        if waiting:
            self._waiting.add(channel.id)
        else:
            self._waiting.discard(channel.id)
            self._looked[channel.id] = newest
        if dropped:
            await self._acts.forget(dropped)
            self._outbox.wake()  # the worker unpins and removes the dropped blocks
            touched = await self._touched(dropped)
            await self._messages.republish(channel, touched)
        return dropped

    async def enforce_everywhere(self) -> None:
        """Fold and carry out every channel's moderation again: at start, and when the
        registry names a channel's creator (its founders' acts then count)."""
        for channel in await self._channels.all():
            self._forget_fold(channel.id)
            try:
                await self.enforce(channel)
            except ChatboxError as exc:
                log.warning("moderation of %s waits: %s", channel.name, exc.message)

    # Inside.

    def _forget_fold(self, channel_id: str) -> None:
        """The acts changed (or their founders may have): fold them again when next asked,
        and the folds of the channels that go on from this one, which start from it."""
        self._folded.pop(channel_id, None)
        self._looked.pop(channel_id, None)
        for successor, before in list(self._follows.items()):
            if before == channel_id:
                self._forget_fold(successor)

    async def _require_moderator(self, member: Member, channel: Channel) -> None:
        folded = await self.state(channel)
        if member.identity.public_key in folded.moderators:
            return
        if self._may_found(member, channel):
            await self.found(member, channel)
            if member.identity.public_key in (await self.state(channel)).moderators:
                return
        raise Forbidden("only a moderator of this channel may do that", detail=channel.id)

    def _may_found(self, member: Member, channel: Channel) -> bool:
        """An admin of this box may moderate any channel this box registered."""
        creator = self._directory.creator(channel.id)
        return (
            member.is_admin
            and self._chain is not None
            and creator is not None
            and creator.lower() == self._chain.address.lower()
        )

    async def _founded(self, channel: Channel) -> bool:
        """Whether the channel's founders are known: by the registry, or by a private id.
        A direct conversation has none: nobody in it moderates the others."""
        if channel.is_private:
            if channel.founder is None:
                return False
            return not await self._channels.is_conversation(channel.id)
        return self._directory.creator(channel.id) is not None

    async def _start(self, channel: Channel) -> Start | None:
        """A private channel starts from its founder, or from the channel it continues."""
        if channel.founder is None or not await self._founded(channel):
            return None  # a public channel, or a conversation
        before = None
        if channel.follows is not None:
            self._follows[channel.id] = channel.follows
            try:
                before = await self.state(await self._channels.get(channel.follows))
            except NotFound:
                before = None  # a newcomer to the successor holds only the successor
        return Start.private_channel(channel.founder, before)

    def _is_founding(self, channel: Channel, act: Act) -> bool:
        creator = self._directory.creator(channel.id)
        if creator is None or act.proof is None:
            return False
        # A registered name keeps its creator, so a proof's answer stands once found.
        if act.cid not in self._founding:
            statement = founder_statement(channel.id, act.author)
            signer = self._directory.signer_of(statement, act.proof)
            self._founding[act.cid] = signer is not None and signer.lower() == creator.lower()
        return self._founding[act.cid]

    async def _stored_acts(self, channel: Channel) -> list[Act]:
        return [
            _act(channel, record.cid, record.clock, record.author, json.loads(record.body))
            for record in await self._acts.acts(channel.id)
        ]

    async def _touched(self, dropped: list[str]) -> list[str]:
        """The messages to show again: those dropped, and those a dropped edit, reaction or
        reply was about."""
        records = await self._entries.entries(dropped)
        return list(
            dict.fromkeys(
                [r.cid for r in records if r.kind in ("message", "reply")]
                + [r.target for r in records if r.target is not None]
            )
        )


def _act(channel: Channel, cid: str, clock: int, author: str, body: dict[str, object]) -> Act:
    value = open_body(channel, dict(body))["mod"]
    settings = None
    if value["act"] == "settings":
        settings = ChannelSettings(
            value["topic"], value["description"], tuple(value["pinned"]), value["posting"]
        )
    return Act(
        cid,
        clock,
        author,
        value["act"],
        value.get("key"),
        value.get("proof"),
        settings,
        value.get("card"),
        value.get("to"),
    )


def _check_meaningful(act: str, key: str, folded: Moderation) -> None:
    """Refuse an act that would count for nothing, saying why."""
    if act == "appoint" and key in folded.moderators:
        raise Conflict("that key moderates this channel already", detail=key)
    if act == "dismiss" and key in folded.founders:
        raise Forbidden("a founder of the channel cannot be dismissed", detail=key)
    if act == "dismiss" and key not in folded.moderators:
        raise Conflict("that key does not moderate this channel", detail=key)
    if act in ("ban", "appoint") and folded.is_banned(key):
        raise Conflict("that key is banned from this channel", detail=key)
    if act == "ban" and key in folded.moderators:
        raise Conflict("a moderator cannot be banned: dismiss them first", detail=key)
    if act == "unban" and not folded.is_banned(key):
        raise Conflict("that key is not banned from this channel", detail=key)
