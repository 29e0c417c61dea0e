"""A fake of the channel log as sync sees it: the replica, and the index entries go into."""

from __future__ import annotations

import time

from chatbox.domain import envelope
from chatbox.domain.channels import Channel
from chatbox.domain.envelope import Envelope
from chatbox.domain.identity import Identity
from chatbox.domain.log import next_position
from chatbox.errors import InvalidEnvelope
from chatbox.ports import IndexedEntry, PeerRecord, RemotePerson
from chatbox.services.message_bodies import seal_body, understand


class FakeLog:
    """Entries by CID in memory (a ``LogReplica`` and sync's ``EntryIndex``)."""

    understand = staticmethod(understand)  # the real check of what may be there

    def __init__(self) -> None:
        self.entries: dict[str, Envelope] = {}
        self.accepted_batches: list[int] = []

    def post(self, author: Identity, channel: Channel, text: str) -> Envelope:
        """An entry on top of this log's heads, as a post on this box makes one."""
        clock, prev = next_position(self._heads(channel.id))
        body = seal_body(channel, {"text": text}) if channel.is_private else {"text": text}
        entry = envelope.create(author, channel.id, clock, prev, time.time_ns() // 1_000_000, body)
        self.entries[entry.cid] = entry
        return entry

    def block(self, cid: str) -> bytes | None:
        entry = self.entries.get(cid)
        return None if entry is None else entry.raw

    async def screen(self, channel: Channel, opened: list[IndexedEntry]) -> list[InvalidEnvelope]:
        return []  # no moderation here: what sync alone does is under test

    async def accept_many(self, channel: Channel, opened: list[IndexedEntry]) -> list[Envelope]:
        added = [i.entry for i in opened if i.entry.cid not in self.entries]
        self.entries.update({entry.cid: entry for entry in added})
        self.accepted_batches.append(len(added))
        return added

    async def heads(self, channel_id: str) -> list[tuple[str, int]]:
        return self._heads(channel_id)

    async def held(self, cids: list[str]) -> set[str]:
        return {cid for cid in cids if cid in self.entries}

    async def log_links(self, channel_id: str) -> dict[str, tuple[int, list[str]]]:
        return {e.cid: (e.clock, list(e.prev)) for e in self._of(channel_id)}

    async def envelopes(self, cids: list[str]) -> dict[str, bytes]:
        return {cid: self.entries[cid].raw for cid in cids if cid in self.entries}

    async def contents(self, cids: list[str]) -> dict[str, bytes]:
        return {}

    async def dangling(self, channel_id: str) -> list[str]:
        return sorted({p for e in self._of(channel_id) for p in e.prev} - set(self.entries))

    async def replace_index(self, channel_id: str, entries: list[IndexedEntry]) -> None:
        for entry in self._of(channel_id):
            del self.entries[entry.cid]
        self.entries.update({indexed.entry.cid: indexed.entry for indexed in entries})

    def _of(self, channel_id: str) -> list[Envelope]:
        return [e for e in self.entries.values() if e.channel == channel_id]

    def _heads(self, channel_id: str) -> list[tuple[str, int]]:
        entries = self._of(channel_id)
        linked = {p for e in entries for p in e.prev}
        return sorted((e.cid, e.clock) for e in entries if e.cid not in linked)


class FakeChannels:
    """The channels a box holds."""

    def __init__(self, *channels: Channel) -> None:
        self.channels = list(channels)

    async def all(self) -> list[Channel]:
        return list(self.channels)


class FakePeerBook:
    """The buddy list and the people of other boxes, in memory (a ``PeerBook``)."""

    def __init__(self) -> None:
        self.heard_from: dict[str, tuple[str, str]] = {}  # peer id -> (box key, name)
        self.rejections: dict[str, int] = {}
        self.people: dict[str, RemotePerson] = {}

    async def remember(self, peer_id: str, source: str, addresses: list[str], name: str) -> None:
        return None

    async def heard(self, peer_id: str, box_key: str, name: str) -> None:
        self.heard_from[peer_id] = (box_key, name)

    async def rejected(self, peer_id: str) -> None:
        self.rejections[peer_id] = self.rejections.get(peer_id, 0) + 1

    async def forget(self, peer_id: str) -> bool:
        return self.heard_from.pop(peer_id, None) is not None

    async def peers(self) -> list[PeerRecord]:
        return [
            PeerRecord(peer, key, name, [], "pubsub", 0, self.rejections.get(peer, 0))
            for peer, (key, name) in self.heard_from.items()
        ]

    async def met(self, people: list[RemotePerson]) -> None:
        self.people.update({person.public_key: person for person in people})

    async def remote_people(self) -> list[RemotePerson]:
        return list(self.people.values())


class FakeFilePins:
    """Files other boxes' entries refer to, queued (a ``FilePins``)."""

    def __init__(self) -> None:
        self.wanted: list[tuple[str, str]] = []

    async def want_files(self, files: list[tuple[str, str]]) -> None:
        self.wanted.extend(files)

    async def files_to_pin(self, limit: int, retry_before: int) -> list[str]:
        return [cid for cid, _ in self.wanted[:limit]]

    async def file_pinned(self, cid: str, error: str | None) -> None:
        return None

    async def file_pin_counts(self) -> dict[str, int]:
        return {"wanted": len(self.wanted)}
