"""Rebuild the message index from the channel heads and IPFS alone.

IPFS is the source of truth; SQLite only indexes it. Starting from each channel's heads,
every entry is fetched by CID, checked (bytes match the CID, valid signature, right
channel) and the channel's index is replaced in one transaction.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from chatbox.domain import envelope
from chatbox.domain.channels import Channel
from chatbox.domain.log import ChannelLog
from chatbox.errors import ChatboxError, InvalidEnvelope
from chatbox.ports import ContentStore, LogReplica
from chatbox.services.channels import ChannelService
from chatbox.services.message_bodies import understand
from chatbox.services.outbox import Outbox
from chatbox.services.sync.intake import content_cids

log = logging.getLogger(__name__)
FETCH_TIMEOUT = 30.0
FETCHES_IN_FLIGHT = 20
CONTENT_TIMEOUT = 5.0  # a content block a delete dropped is not on this node nor on peers


@dataclass(frozen=True)
class ReindexReport:
    channel_id: str
    name: str
    entries: int


class Reindexer:
    def __init__(
        self, replica: LogReplica, content: ContentStore, channels: ChannelService, outbox: Outbox
    ) -> None:
        self._replica = replica
        self._content = content
        self._channels = channels
        self._outbox = outbox

    async def reindex_all(self) -> list[ReindexReport]:
        """Flush the outbox (so IPFS holds everything), then rebuild every channel."""
        await self._outbox.flush()
        return [await self.reindex(channel) for channel in await self._channels.all()]

    async def reindex(self, channel: Channel) -> ReindexReport:
        heads = [cid for cid, _ in await self._replica.heads(channel.id)]
        return await self.rebuild(channel, heads)

    async def rebuild(self, channel: Channel, heads: list[str]) -> ReindexReport:
        """Replace the channel's index with the history reachable from ``heads``."""
        replica = await self._fetch_log(channel, heads)
        entries = replica.entries()
        blocks = await self._fetch_contents(content_cids(channel, [e.raw for e in entries]))
        rows = [understand(channel, entry, _block_of(channel, entry, blocks)) for entry in entries]
        await self._replica.replace_index(channel.id, rows)
        log.info("reindexed channel %s: %d entries", channel.name, len(rows))
        return ReindexReport(channel.id, channel.name, len(rows))

    async def _fetch_contents(self, cids: list[str]) -> dict[str, bytes]:
        """The content blocks IPFS still holds; a deleted message's is gone for good."""
        gate = asyncio.Semaphore(FETCHES_IN_FLIGHT)

        async def fetch(cid: str) -> tuple[str, bytes | None]:
            async with gate:
                try:
                    return cid, await self._content.get_block(cid, timeout=CONTENT_TIMEOUT)
                except ChatboxError:
                    return cid, None

        found = await asyncio.gather(*map(fetch, cids))
        return {cid: block for cid, block in found if block is not None}

    async def _fetch_log(self, channel: Channel, heads: list[str]) -> ChannelLog:
        replica = ChannelLog(channel.id)
        wanted = set(heads)
        gate = asyncio.Semaphore(FETCHES_IN_FLIGHT)

        async def fetch(cid: str) -> envelope.Envelope:
            async with gate:
                raw = await self._content.get_block(cid, timeout=FETCH_TIMEOUT)
            entry = envelope.parse(raw, expected_cid=cid)
            if entry.channel != channel.id:
                raise InvalidEnvelope("an entry of another channel is linked here", detail=cid)
            return entry

        # Breadth-first, a generation of parents at a time, many fetches in flight.
        while wanted:
            for entry in await asyncio.gather(*(fetch(cid) for cid in sorted(wanted))):
                replica.add(entry)
            wanted = replica.missing()
        return replica


def _block_of(channel: Channel, entry: envelope.Envelope, blocks: dict[str, bytes]) -> bytes | None:
    named = content_cids(channel, [entry.raw])
    return blocks.get(named[0]) if named else None
