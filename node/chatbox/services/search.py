"""Search over what a person may read: the channels they belong to, newest first.

Public channels are searched through a full-text index (SQLite FTS5): their text is
readable by anyone on the box already. Private channels keep no plaintext at rest, so no
index of them is written: the newest ``PRIVATE_SCAN`` messages and replies of each are
opened and matched in memory for each search. The trade-off: nothing of a private channel's
history is on the disk for someone who takes the box, and a search there reaches only
that far back (older messages are found by scrolling).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from chatbox.domain.channels import Channel
from chatbox.domain.search_words import holds, query_words, searchable
from chatbox.ports import PublicTextIndex
from chatbox.services.accounts import Member
from chatbox.services.channels import ChannelService
from chatbox.services.messages import Message, MessageService

MAX_RESULTS = 50
PRIVATE_SCAN = 2000  # newest messages and replies of each private channel a search opens


@dataclass(frozen=True)
class Found:
    message: Message
    channel: Channel
    words: list[str]  # what was looked for, folded, for highlighting


class SearchService:
    def __init__(
        self, index: PublicTextIndex, channels: ChannelService, messages: MessageService
    ) -> None:
        self._index = index
        self._channels = channels
        self._messages = messages

    async def search(self, member: Member, query: object, limit: int = MAX_RESULTS) -> list[Found]:
        """The messages of ``member``'s channels that hold every word of ``query``."""
        words = query_words(query)
        joined = await self._channels.joined(member)
        public = [channel for channel in joined if not channel.is_private]
        found: list[Found] = []
        by_id = {channel.id: channel for channel in joined}
        hits = await self._index.search_public([c.id for c in public], words, limit)
        # An edit's words find the message it edits, and so do its earlier words: only
        # what the message says now counts.
        for message in await self._messages.find_many(member, list(dict.fromkeys(hits))):
            if holds(searchable({"text": message.text, "file": message.file}), words):
                found.append(Found(message, by_id[message.channel_id], words))
        for channel in (c for c in joined if c.is_private):
            matched = await self._messages.matching(
                member, channel.id, partial(holds, words=words), PRIVATE_SCAN
            )
            found += [Found(message, channel, words) for message in matched]
        found.sort(key=lambda each: (each.message.ts, each.message.cid), reverse=True)
        return found[:limit]
