"""Posting and reading messages.

A post is signed, indexed and committed to SQLite before it is acknowledged; the outbox
then pins it on IPFS in batches (``outbox.py``). Posts to one channel from this box chain
one after another: the channel's heads are cached and advanced before the write is queued,
and the writer commits in queue order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from chatbox.domain import envelope
from chatbox.domain.channels import Channel
from chatbox.domain.cid import raw_cid
from chatbox.domain.envelope import Envelope
from chatbox.domain.identity import fingerprint
from chatbox.domain.log import next_position
from chatbox.domain.relations import Folded, fold
from chatbox.domain.search_words import searchable
from chatbox.errors import Conflict, Forbidden, InvalidEnvelope, InvalidInput, NotFound
from chatbox.ports import AnchorMarks, EntryLog, EntryRecord, EntryRelations, IndexedEntry
from chatbox.services.accounts import Member
from chatbox.services.channels import ChannelService
from chatbox.services.live import LiveFeed
from chatbox.services.message_bodies import (
    content_block,
    said,
    seal_body,
    stored_content,
    understand,
)
from chatbox.services.outbox import Outbox
from chatbox.services.storage import StorageGuard

MAX_PAGE = 200

Screen = Callable[[Channel, list[IndexedEntry]], Awaitable[list[InvalidEnvelope]]]


@dataclass(frozen=True)
class Message:
    """A message as faces show it: decrypted, with its author's fingerprint."""

    cid: str
    channel_id: str
    author: str
    author_fingerprint: str
    clock: int
    ts: int
    text: str | None
    file: dict[str, Any] | None
    pinned: bool
    anchored: bool = False  # a confirmed on-chain batch covers it
    reply_to: str | None = None  # the message a reply answers
    replies: int = 0
    # reaction -> the keys of who reacted, in the order they did
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edited_ts: int | None = None  # when the text shown was written, if it is an edit
    deleted: bool = False
    revision: int = 0  # grows with each reply, edit or reaction folded in
    reply_to_author: str | None = None  # whom a reply answers: they are told of it


@dataclass(frozen=True)
class Page:
    messages: list[Message]
    before: str | None  # pass back as ``before`` for the previous page; None at the start
    after: str | None = None  # pass back as ``after`` for the next page; None at the newest


class MessageService:
    def __init__(
        self,
        log: EntryLog,
        relations: EntryRelations,
        channels: ChannelService,
        outbox: Outbox,
        live: LiveFeed,
        storage: StorageGuard,
        anchors: AnchorMarks,
    ) -> None:
        self._log = log
        self._relations = relations
        self._anchors = anchors
        self._storage = storage
        self._channels = channels
        self._outbox = outbox
        self._live = live
        self._heads: dict[str, set[tuple[str, int]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._post_listeners: list[Callable[[Channel, Envelope, bytes | None], None]] = []
        self._arrival_listeners: list[Callable[[Channel, list[IndexedEntry]], Awaitable[None]]] = []
        self._may_write: Callable[[Member, Channel, dict[str, Any]], Awaitable[None]] | None = None
        self._screen: Screen | None = None

    def guard_writes(
        self, may_write: Callable[[Member, Channel, dict[str, Any]], Awaitable[None]]
    ) -> None:
        """Ask ``may_write`` before ``member`` writes a body into a channel (it raises to
        refuse): moderation refuses a banned key, and others' posts where only moderators
        post."""
        self._may_write = may_write

    def screen_arrivals(self, screen: Screen) -> None:
        """Let ``screen`` refuse entries from peers that are valid alone but may not be
        carried out (a moderation act by a key that does not moderate): refused, they
        count against the sender, and are still stored so the log keeps no hole."""
        self._screen = screen

    def on_arrival(
        self, listener: Callable[[Channel, list[IndexedEntry]], Awaitable[None]]
    ) -> None:
        """Await ``listener`` with the entries from a peer that were new here, once indexed."""
        self._arrival_listeners.append(listener)

    def on_post(self, listener: Callable[[Channel, Envelope, bytes | None], None]) -> None:
        """Call ``listener`` with each entry posted on this box (and its content block, if
        it has one), once it is durable."""
        self._post_listeners.append(listener)

    async def post_text(
        self, member: Member, channel_id: str, text: str, reply_to: str | None = None
    ) -> Message:
        """Post ``text``; with ``reply_to``, as a reply in that message's thread."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("message text must not be empty")
        channel = await self._channels.for_member(member, channel_id)
        if reply_to is not None:
            reply_to = (await self._thread_root(channel, reply_to)).cid
        return await self.post_body(member, channel, {"text": text}, reply_to=reply_to)

    async def post_body(
        self,
        member: Member,
        channel: Channel,
        body: dict[str, Any],
        reply_to: str | None = None,
    ) -> Message:
        """Sign a message saying ``body`` into the channel's log, its words in a content
        block of their own; returns once it is durable on this box."""
        envelope.check_message_body(body)
        reference = {"re": reply_to} if reply_to is not None else {}
        return await self._say(member, channel, body, reference)

    async def edit(self, member: Member, cid: str, text: str) -> Message:
        """Replace the text of ``member``'s own message; earlier versions stay readable."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("message text must not be empty")
        channel, record = await self._own_message(member, cid)
        if "text" not in (said(channel, record.body, record.content) or {}):
            raise Conflict("only a message's text can be edited", detail=cid)
        await self._say(member, channel, {"text": text}, {"edit": cid})
        return await self.find(member, cid)

    async def delete(self, member: Member, cid: str) -> None:
        """Delete ``member``'s own message: its text and file leave this box, and every box
        that follows the channel when the delete reaches it."""
        channel, _ = await self._own_message(member, cid)
        await self._append(member, channel, {"delete": cid}, None)
        await self.republish(channel, [cid])

    async def react(self, member: Member, cid: str, reaction: str, on: bool) -> Message:
        """Add (``on``) or take back ``member``'s reaction to a message."""
        if not envelope.is_reaction(reaction):
            raise InvalidInput("a reaction must be 1 to 16 characters without spaces")
        record = await self._message_record(member, cid)
        if record.deleted:
            raise Conflict("that message was deleted", detail=cid)
        channel = await self._channels.for_member(member, record.channel_id)
        body = {"react": {"to": cid, "emoji": reaction, "on": on}}
        await self._append(member, channel, body, None)
        updated = await self.find(member, cid)
        self._live.publish(channel.id, updated)
        return updated

    async def accept_many(self, channel: Channel, opened: list[IndexedEntry]) -> list[Envelope]:
        """Index entries from a peer box in one group of writes; returns the new ones.

        The entries wait in the outbox until this box's IPFS has them pinned too.
        """
        async with self._lock(channel.id):
            results = await asyncio.gather(
                *(self._log.append(indexed, False) for indexed in opened)
            )
            # Reload the heads on the next post; holding the lock orders this after any
            # post already queued, so the reload sees both.
            self._heads.pop(channel.id, None)
        added = [indexed for indexed, is_new in zip(opened, results, strict=True) if is_new]
        if added:
            self._outbox.wake()
            await self._publish(channel, added)
            for listener in self._arrival_listeners:
                await listener(channel, added)
        return [indexed.entry for indexed in added]

    @staticmethod
    def understand(channel: Channel, entry: Envelope, block: bytes | None) -> IndexedEntry:
        """What an entry from a peer is; InvalidEnvelope if it may not be there."""
        return understand(channel, entry, block)

    async def screen(self, channel: Channel, opened: list[IndexedEntry]) -> list[InvalidEnvelope]:
        """Why some of these entries from a peer are refused (see ``screen_arrivals``)."""
        return [] if self._screen is None else await self._screen(channel, opened)

    async def append_entry(
        self, member: Member, channel: Channel, body: dict[str, Any]
    ) -> IndexedEntry:
        """Sign a body without content block (a delete, a moderation act) into the log."""
        return await self._append(member, channel, body, None)

    async def republish(self, channel: Channel, cids: list[str]) -> None:
        """Show watchers these messages as they now read (a delete, a ban), and the thread
        each reply among them hangs from: its count of replies changed."""
        records = await self._log.entries(cids)
        roots = [r.target for r in records if r.kind == "reply" and r.target is not None]
        records += await self._log.entries([cid for cid in roots if cid not in cids])
        mine = [r for r in records if r.channel_id == channel.id and r.kind in _MESSAGES]
        for message in await self._views(channel, mine):
            self._live.publish(channel.id, message)

    async def history(
        self,
        member: Member,
        channel_id: str,
        before: str | None = None,
        limit: int = 50,
        after: str | None = None,
    ) -> Page:
        """Messages preceding the message ``before`` (the newest if absent), or following
        the message ``after``; oldest first either way. Replies are in their threads."""
        channel = await self._channels.for_member(member, channel_id)
        if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be 1 to {MAX_PAGE}")
        if before is not None and after is not None:
            raise InvalidInput("give before or after, not both")
        if after is not None:
            records = await self._log.page_after(
                channel.id, await self._cursor(channel, after), limit
            )
        else:
            cursor = None if before is None else await self._cursor(channel, before)
            records = await self._log.page(channel.id, cursor, limit)
        messages = await self._views(channel, records)
        more = len(records) == limit  # limit >= 1, so a full page is never empty
        if after is not None:
            return Page(messages, None, messages[-1].cid if more else None)
        return Page(messages, messages[0].cid if more else None)

    async def thread(self, member: Member, cid: str) -> list[Message]:
        """A message and its replies, oldest first (at most ``MAX_PAGE`` of them)."""
        record = await self._message_record(member, cid)
        channel = await self._channels.for_member(member, record.channel_id)
        root = await self._thread_root(channel, cid)
        about = await self._relations.about([root.cid])
        replies = [said.cid for said in about if said.kind == "reply"][-MAX_PAGE:]
        records = sorted(await self._log.entries(replies), key=lambda r: (r.clock, r.cid))
        return await self._views(channel, [root, *records])

    async def versions(self, member: Member, cid: str) -> list[Message]:
        """Every version of a message's text, the first as posted, then each counted edit."""
        record = await self._message_record(member, cid)
        channel = await self._channels.for_member(member, record.channel_id)
        folded = fold({record.cid: record.author}, await self._relations.about([cid]))
        edits = {r.cid: r for r in await self._log.entries(folded[cid].edits)}
        first = _record_message(record, _said_or_gone(channel, record), False)
        return [first] + [
            _record_message(edits[edit], _said_or_gone(channel, edits[edit]), False)
            for edit in folded[cid].edits
            if edit in edits
        ]

    async def around(self, member: Member, channel_id: str, cid: str, limit: int = 50) -> Page:
        """The message ``cid`` amid about ``limit`` of its neighbours, older and newer: where
        a search result or a link to a message opens its channel."""
        half = max(1, limit // 2)
        older = await self.history(member, channel_id, cid, half)  # NotFound if not here
        newer = await self.history(member, channel_id, None, half, after=cid)
        centre = await self.find(member, cid)
        return Page([*older.messages, centre, *newer.messages], older.before, newer.after)

    async def _cursor(self, channel: Channel, cid: str) -> tuple[int, str]:
        anchor = await self._log.entry(cid) if isinstance(cid, str) else None
        if anchor is None or anchor.channel_id != channel.id:
            raise NotFound("no such message in this channel", detail=str(cid)[:80])
        return (anchor.clock, anchor.cid)

    async def find(self, member: Member, cid: str) -> Message:
        """One message from a channel ``member`` belongs to; others get NotFound."""
        record = await self._message_record(member, cid)
        channel = await self._channels.for_member(member, record.channel_id)
        return (await self._views(channel, [record]))[0]

    async def find_many(self, member: Member, cids: list[str]) -> list[Message]:
        """The messages of ``cids`` that ``member`` may read, in the order given; the rest
        (unknown, deleted, or in a channel they are not in) are left out."""
        records = {record.cid: record for record in await self._log.entries(cids)}
        readable: dict[str, Channel | None] = {}
        for channel_id in {record.channel_id for record in records.values()}:
            try:
                readable[channel_id] = await self._channels.for_member(member, channel_id)
            except NotFound:
                readable[channel_id] = None
        found: dict[str, Message] = {}
        for channel_id, channel in readable.items():
            if channel is not None:
                shown = [r for r in records.values() if r.channel_id == channel_id]
                found.update((m.cid, m) for m in await self._views(channel, shown))
        return [found[cid] for cid in cids if cid in found and not found[cid].deleted]

    async def matching(
        self, member: Member, channel_id: str, keep: Callable[[str], bool], newest: int
    ) -> list[Message]:
        """Of the channel's ``newest`` latest messages and replies, those whose text (or
        file name) ``keep`` accepts, oldest first: a search of a channel that keeps no
        index."""
        channel = await self._channels.for_member(member, channel_id)
        records: list[EntryRecord] = []
        cursor = None
        while len(records) < newest:
            wanted = min(MAX_PAGE, newest - len(records))
            page = await self._log.page(channel.id, cursor, wanted, with_replies=True)
            records = page + records
            if len(page) < wanted:  # the channel's first message is in
                break
            cursor = (page[0].clock, page[0].cid)
        messages = await self._views(channel, records)
        return [m for m in messages if not m.deleted and keep(_searchable(m))]

    async def message_count(self, channel_id: str) -> int:
        """How many messages and replies of a channel show (not reactions, edits, deletes,
        moderation, or deleted messages)."""
        return await self._log.message_count(channel_id)

    def view(self, channel: Channel, record: EntryRecord, anchored: bool = False) -> Message:
        """One entry as a message, without what is said about it (``find`` folds that in)."""
        return _record_message(record, _said_or_gone(channel, record), anchored)

    async def _views(self, channel: Channel, records: list[EntryRecord]) -> list[Message]:
        """``records`` as messages, with their replies, edits and reactions folded in."""
        cids = [record.cid for record in records]
        # Both asked at once: the reader thread takes the second while the first is read.
        about, anchored = await asyncio.gather(
            self._relations.about(cids), self._anchors.confirmed_among(cids)
        )
        folded = fold({r.cid: r.author for r in records}, about)
        shown_edits = [f.shown_edit for f in folded.values() if f.shown_edit is not None]
        answered = [r.target for r in records if r.kind == "reply" and r.target is not None]
        wanted = shown_edits + answered  # in one read: the edits shown, whom replies answer
        held = {r.cid: r for r in await self._log.entries(wanted)} if wanted else {}
        messages = []
        for record in records:
            facts = folded[record.cid]
            edit = held.get(facts.shown_edit) if facts.shown_edit else None
            body = _said_or_gone(channel, edit if edit is not None else record)
            message = _record_message(record, body, record.cid in anchored, facts)
            if edit is not None:
                message = _with_edit(message, edit.ts)
            parent = held.get(record.target or "") if record.kind == "reply" else None
            if parent is not None:
                message = replace(message, reply_to_author=parent.author)
            messages.append(message)
        return messages

    async def _say(
        self, member: Member, channel: Channel, body: dict[str, Any], reference: dict[str, str]
    ) -> Message:
        self._storage.require_for_text()
        block = content_block(channel, body)
        signed = {"content": {"cid": raw_cid(block), **reference}}
        indexed = await self._append(member, channel, signed, block)
        if indexed.kind == "message":
            message = _entry_message(indexed.entry, body, indexed.target)
            self._live.publish(channel.id, message)
            return message
        await self._publish(channel, [indexed])
        return _entry_message(indexed.entry, body, indexed.target)

    async def _append(
        self, member: Member, channel: Channel, body: dict[str, Any], block: bytes | None
    ) -> IndexedEntry:
        """Sign ``body`` on top of the channel's heads and commit it here."""
        if self._may_write is not None and "delete" not in body:  # one's own, still
            await self._may_write(member, channel, body)
        signed_body = seal_body(channel, body) if channel.is_private else body
        async with self._lock(channel.id):
            heads = await self._cached_heads(channel.id)
            clock, prev = next_position(heads)
            entry = envelope.create(
                member.identity, channel.id, clock, prev, _now_ms(), signed_body
            )
            indexed = understand(channel, entry, block)
            self._heads[channel.id] = {(entry.cid, entry.clock)}
            committed = self._log.append(indexed, False)
        try:
            await committed
        except BaseException:
            self._heads.pop(channel.id, None)  # reload from the store on the next post
            raise
        self._outbox.wake()
        for listener in self._post_listeners:
            listener(channel, entry, block)
        return indexed

    async def _publish(self, channel: Channel, added: list[IndexedEntry]) -> None:
        """Show watchers what arrived: new messages, and each message something new was
        said about (a reply, an edit, a reaction, a delete) as it now reads."""
        touched: list[str] = []
        for indexed in added:
            if indexed.kind == "message":
                entry = indexed.entry
                body = said(channel, envelope.body_text(entry.body), indexed.content) or {}
                self._live.publish(channel.id, _entry_message(entry, body, None))
            if indexed.kind == "reply":
                touched.append(indexed.entry.cid)
            if indexed.target is not None:
                touched.append(indexed.target)
        await self.republish(channel, list(dict.fromkeys(touched)))

    async def _message_record(self, member: Member, cid: str) -> EntryRecord:
        """A message or reply of a channel ``member`` belongs to; NotFound otherwise."""
        record = await self._log.entry(cid) if isinstance(cid, str) else None
        if record is None or record.kind not in _MESSAGES:
            raise NotFound("no such message", detail=str(cid)[:80])
        await self._channels.for_member(member, record.channel_id)
        return record

    async def _own_message(self, member: Member, cid: str) -> tuple[Channel, EntryRecord]:
        record = await self._message_record(member, cid)
        channel = await self._channels.for_member(member, record.channel_id)
        if record.author != member.identity.public_key:
            raise Forbidden("only its author may change or delete a message", detail=cid)
        if record.deleted:
            raise Conflict("that message was deleted", detail=cid)
        return channel, record

    async def _thread_root(self, channel: Channel, cid: str) -> EntryRecord:
        """The message a thread hangs from: ``cid``, or the message it replies to."""
        record = await self._log.entry(cid) if isinstance(cid, str) else None
        if record is None or record.channel_id != channel.id or record.kind not in _MESSAGES:
            raise NotFound("no such message in this channel", detail=str(cid)[:80])
        if record.kind == "reply" and record.target is not None:
            root = await self._log.entry(record.target)
            if root is not None and root.channel_id == channel.id:
                return root
        return record

    def _lock(self, channel_id: str) -> asyncio.Lock:
        return self._locks.setdefault(channel_id, asyncio.Lock())

    async def _cached_heads(self, channel_id: str) -> set[tuple[str, int]]:
        if channel_id not in self._heads:
            self._heads[channel_id] = set(await self._log.heads(channel_id))
        return self._heads[channel_id]


_MESSAGES = ("message", "reply")


def _said_or_gone(channel: Channel, record: EntryRecord) -> dict[str, Any]:
    """What a record says; ``{}`` once deleted or while its content has not arrived."""
    if record.deleted:
        return {}
    if record.content_cid is not None:  # the envelope only names the block
        return {} if record.content is None else stored_content(channel, record.content)
    return said(channel, record.body, record.content) or {}


def _searchable(message: Message) -> str:
    return searchable({"text": message.text, "file": message.file})


def _message(
    cid: str,
    channel_id: str,
    author: str,
    clock: int,
    ts: int,
    body: dict[str, Any],
    pinned: bool,
    anchored: bool = False,
    reply_to: str | None = None,
    facts: Folded | None = None,
    deleted: bool = False,
) -> Message:
    facts = facts or Folded()
    return Message(
        cid,
        channel_id,
        author,
        fingerprint(author),
        clock,
        ts,
        body.get("text"),
        body.get("file"),
        pinned,
        anchored,
        reply_to,
        facts.replies,
        facts.reactions,
        None,
        deleted,
        facts.revision,
    )


def _with_edit(message: Message, edited_ts: int) -> Message:
    return replace(message, edited_ts=edited_ts)


def _record_message(
    record: EntryRecord, body: dict[str, Any], anchored: bool, facts: Folded | None = None
) -> Message:
    return _message(
        record.cid,
        record.channel_id,
        record.author,
        record.clock,
        record.ts,
        body,
        pinned=record.stored,
        anchored=anchored,
        reply_to=record.target if record.kind == "reply" else None,
        facts=facts,
        deleted=record.deleted,
    )


def _entry_message(entry: Envelope, body: dict[str, Any], reply_to: str | None) -> Message:
    return _message(
        entry.cid, entry.channel, entry.author, entry.clock, entry.ts, body, False, False, reply_to
    )


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
