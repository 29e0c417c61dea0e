"""Posting and reading messages.

A post is signed, indexed and committed to SQLite before it is acknowledged; the outbox
then pins it on IPFS in batches (``outbox.py``). Posts to one channel from this box chain
one after another: the channel's heads are cached and advanced before the write is queued,
and the writer commits in queue order.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chatbox.domain import canonical, envelope
from chatbox.domain.channels import Channel
from chatbox.domain.envelope import Envelope
from chatbox.domain.identity import fingerprint
from chatbox.domain.log import next_position
from chatbox.domain.sealing import open_sealed, seal
from chatbox.domain.search_words import searchable
from chatbox.errors import Forbidden, InvalidEnvelope, InvalidInput, NotFound
from chatbox.ports import AnchorMarks, EntryLog, EntryRecord
from chatbox.services.accounts import Member
from chatbox.services.channels import ChannelService
from chatbox.services.live import LiveFeed
from chatbox.services.outbox import Outbox
from chatbox.services.storage import StorageGuard

MAX_PAGE = 200


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


@dataclass(frozen=True)
class Page:
    messages: list[Message]
    before: str | None  # pass back as ``before`` for the previous page; None at the start
    after: str | None = None  # pass back as ``after`` for the next page; None at the newest


class MessageService:
    def __init__(
        self,
        log: EntryLog,
        channels: ChannelService,
        outbox: Outbox,
        live: LiveFeed,
        storage: StorageGuard,
        anchors: AnchorMarks,
    ) -> None:
        self._log = log
        self._anchors = anchors
        self._storage = storage
        self._channels = channels
        self._outbox = outbox
        self._live = live
        self._heads: dict[str, set[tuple[str, int]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._post_listeners: list[Callable[[Channel, Envelope], None]] = []

    def on_post(self, listener: Callable[[Channel, Envelope], None]) -> None:
        """Call ``listener`` with each entry posted on this box, once it is durable."""
        self._post_listeners.append(listener)

    async def post_text(self, member: Member, channel_id: str, text: str) -> Message:
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("message text must not be empty")
        channel = await self._channels.for_member(member, channel_id)
        return await self.post_body(member, channel, {"text": text})

    async def post_body(
        self, member: Member, channel: Channel, body: dict[str, Any], file_cid: str | None = None
    ) -> Message:
        """Sign ``body`` into the channel's log; returns once it is durable on this box."""
        envelope.check_body(body)
        self._storage.require_for_text()
        signed_body = seal_body(channel, body) if channel.is_private else body
        async with self._lock(channel.id):
            heads = await self._cached_heads(channel.id)
            clock, prev = next_position(heads)
            entry = envelope.create(
                member.identity, channel.id, clock, prev, _now_ms(), signed_body
            )
            self._heads[channel.id] = {(entry.cid, entry.clock)}
            committed = self._log.append(entry, envelope.body_text(signed_body), file_cid, False)
        try:
            await committed
        except BaseException:
            self._heads.pop(channel.id, None)  # reload from the store on the next post
            raise
        self._outbox.wake()
        for listener in self._post_listeners:
            listener(channel, entry)
        message = _entry_message(entry, body, pinned=False)
        self._live.publish(channel.id, message)
        return message

    async def accept_many(
        self, channel: Channel, opened: list[tuple[Envelope, dict[str, Any]]]
    ) -> list[Envelope]:
        """Index entries from a peer box in one group of writes; returns the new ones.

        ``opened`` pairs each verified entry with its body as ``readable`` gave it. The
        entries wait in the outbox until this box's IPFS has them pinned too.
        """
        async with self._lock(channel.id):
            written = [
                self._log.append(
                    entry, envelope.body_text(entry.body), referenced_file(body), False
                )
                for entry, body in opened
            ]
            results = await asyncio.gather(*written)
            # Reload the heads on the next post; holding the lock orders this after any
            # post already queued, so the reload sees both.
            self._heads.pop(channel.id, None)
        added = []
        for (entry, body), is_new in zip(opened, results, strict=True):
            if is_new:
                added.append(entry)
                self._live.publish(channel.id, _entry_message(entry, body, pinned=False))
        if added:
            self._outbox.wake()
        return added

    @staticmethod
    def readable(channel: Channel, entry: Envelope) -> dict[str, Any]:
        """The opened body of an entry of ``channel``; InvalidEnvelope if it may not be there."""
        if entry.channel != channel.id:
            raise InvalidEnvelope("entry belongs to another channel")
        return open_body(channel, entry.body)

    async def history(
        self,
        member: Member,
        channel_id: str,
        before: str | None = None,
        limit: int = 50,
        after: str | None = None,
    ) -> Page:
        """Messages preceding the message ``before`` (the newest if absent), or following
        the message ``after``; oldest first either way."""
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
        anchored = await self._anchors.confirmed_among([record.cid for record in records])
        messages = [self.view(channel, record, record.cid in anchored) for record in records]
        more = len(records) == limit  # limit >= 1, so a full page is never empty
        if after is not None:
            return Page(messages, None, messages[-1].cid if more else None)
        return Page(messages, messages[0].cid if more else None)

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
        record = await self._log.entry(cid) if isinstance(cid, str) else None
        if record is None:
            raise NotFound("no such message", detail=str(cid)[:80])
        channel = await self._channels.for_member(member, record.channel_id)
        anchored = await self._anchors.confirmed_among([record.cid])
        return self.view(channel, record, bool(anchored))

    async def find_many(self, member: Member, cids: list[str]) -> list[Message]:
        """The messages of ``cids`` that ``member`` may read, in the order given; the rest
        (unknown, or in a channel they are not in) are left out."""
        records = {record.cid: record for record in await self._log.entries(cids)}
        readable: dict[str, Channel | None] = {}
        for channel_id in {record.channel_id for record in records.values()}:
            try:
                readable[channel_id] = await self._channels.for_member(member, channel_id)
            except NotFound:
                readable[channel_id] = None
        anchored = await self._anchors.confirmed_among(list(records))
        messages = []
        for cid in cids:
            record = records.get(cid)
            channel = readable.get(record.channel_id) if record else None
            if record is not None and channel is not None:
                messages.append(self.view(channel, record, cid in anchored))
        return messages

    async def matching(
        self, member: Member, channel_id: str, keep: Callable[[str], bool], newest: int
    ) -> list[Message]:
        """Of the channel's ``newest`` latest messages, those whose text (or file name)
        ``keep`` accepts, oldest first: a search of a channel that keeps no index."""
        channel = await self._channels.for_member(member, channel_id)
        records: list[EntryRecord] = []
        cursor = None
        while len(records) < newest:
            wanted = min(MAX_PAGE, newest - len(records))
            page = await self._log.page(channel.id, cursor, wanted)
            records = page + records
            if len(page) < wanted:  # the channel's first message is in
                break
            cursor = (page[0].clock, page[0].cid)
        opened = [(record, open_body(channel, canonical.loads(record.body))) for record in records]
        kept = [(record, body) for record, body in opened if keep(searchable(body))]
        anchored = await self._anchors.confirmed_among([record.cid for record, _ in kept])
        return [_record_message(record, body, record.cid in anchored) for record, body in kept]

    async def count(self, channel_id: str) -> int:
        """How many entries of a channel this box holds (its own and its peers')."""
        return await self._log.entry_count(channel_id)

    def view(self, channel: Channel, record: EntryRecord, anchored: bool = False) -> Message:
        return _record_message(record, open_body(channel, canonical.loads(record.body)), anchored)

    def _lock(self, channel_id: str) -> asyncio.Lock:
        return self._locks.setdefault(channel_id, asyncio.Lock())

    async def _cached_heads(self, channel_id: str) -> set[tuple[str, int]]:
        if channel_id not in self._heads:
            self._heads[channel_id] = set(await self._log.heads(channel_id))
        return self._heads[channel_id]


def seal_body(channel: Channel, body: dict[str, Any]) -> dict[str, Any]:
    assert channel.key is not None
    sealed = seal(channel.key, canonical.dumps(body), _body_aad(channel.id))
    return {"sealed": base64.b64encode(sealed).decode("ascii")}


def open_body(channel: Channel, body: dict[str, Any]) -> dict[str, Any]:
    """The readable body: private bodies are opened with the channel key and checked."""
    if "sealed" not in body:
        if channel.key is not None:
            raise InvalidEnvelope("a private channel's entry must be sealed")
        return body
    if channel.key is None:
        raise InvalidEnvelope("sealed body in a public channel")
    try:
        sealed = base64.b64decode(body["sealed"], validate=True)
    except ValueError as exc:
        raise InvalidEnvelope("sealed body is not base64") from exc
    try:
        inner = canonical.loads(open_sealed(channel.key, sealed, _body_aad(channel.id)))
    except (Forbidden, InvalidInput) as exc:
        raise InvalidEnvelope("sealed body does not open with the channel key") from exc
    envelope.check_body(inner)
    if "sealed" in inner:
        raise InvalidEnvelope("sealed body inside a sealed body")
    return dict(inner)


def _body_aad(channel_id: str) -> bytes:
    return b"chatbox-body\n" + channel_id.encode("ascii")


def referenced_file(body: dict[str, Any]) -> str | None:
    """The CID of the file a body refers to, if any."""
    file = body.get("file")
    return str(file["cid"]) if isinstance(file, dict) else None


def _message(
    cid: str,
    channel_id: str,
    author: str,
    clock: int,
    ts: int,
    body: dict[str, Any],
    pinned: bool,
    anchored: bool = False,
) -> Message:
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
    )


def _record_message(record: EntryRecord, body: dict[str, Any], anchored: bool) -> Message:
    return _message(
        record.cid,
        record.channel_id,
        record.author,
        record.clock,
        record.ts,
        body,
        pinned=record.stored,
        anchored=anchored,
    )


def _entry_message(entry: Envelope, body: dict[str, Any], pinned: bool) -> Message:
    return _message(entry.cid, entry.channel, entry.author, entry.clock, entry.ts, body, pinned)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
