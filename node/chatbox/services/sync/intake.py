"""Entries a peer sent: verified, the valid ones indexed, the sender counted for the rest."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Protocol

from chatbox.domain import envelope
from chatbox.domain.channels import Channel
from chatbox.domain.cid import raw_cid
from chatbox.domain.envelope import Envelope
from chatbox.errors import ChatboxError, InvalidEnvelope
from chatbox.ports import FilePins, IndexedEntry, PeerBook
from chatbox.services.message_bodies import open_body
from chatbox.services.sync.report import SyncReport

log = logging.getLogger("chatbox.services.sync")


class EntryIndex(Protocol):
    """Where entries from peers go: ``MessageService`` on a box."""

    def understand(
        self, channel: Channel, entry: Envelope, block: bytes | None
    ) -> IndexedEntry: ...
    async def screen(
        self, channel: Channel, opened: list[IndexedEntry]
    ) -> list[InvalidEnvelope]: ...
    async def accept_many(self, channel: Channel, opened: list[IndexedEntry]) -> list[Envelope]: ...


class EntryIntake:
    def __init__(
        self, index: EntryIndex, files: FilePins, peers: PeerBook, report: SyncReport
    ) -> None:
        self._index = index
        self._files = files
        self._peers = peers
        self._report = report

    async def ingest(
        self,
        channel: Channel,
        raws: Iterable[bytes],
        sender: str,
        contents: Iterable[bytes] = (),
    ) -> list[Envelope]:
        """Index the valid entries among ``raws``, with whichever of their content blocks
        ``contents`` holds; returns the entries that were new here.

        ``sender`` is the peer they came from, or "" when fetched by CID.
        """
        blocks: Mapping[str, bytes] = {raw_cid(block): block for block in contents}
        opened: list[IndexedEntry] = []
        for raw in raws:
            try:
                entry = envelope.parse(raw)
                indexed = self._index.understand(
                    channel, entry, blocks.get(_content_cid(channel, entry) or "")
                )
            except InvalidEnvelope as exc:
                await self.reject(sender, channel, exc)
                continue
            opened.append(indexed)
        if not opened:
            return []
        for reason in await self._index.screen(channel, opened):
            await self.reject(sender, channel, reason)  # refused, yet kept: see screen
        added = await self._index.accept_many(channel, opened)
        self._report.received += len(added)
        files = {indexed.entry.cid: indexed.file_cid for indexed in opened if indexed.file_cid}
        wanted = [(files[entry.cid], channel.id) for entry in added if entry.cid in files]
        if wanted:  # pinned by the file pinner, whoever posted them
            await self._files.want_files(wanted)
        return added

    async def reject(self, sender: str, channel: Channel, exc: ChatboxError) -> None:
        """Something invalid arrived: drop it and count it against the peer that sent it."""
        self._report.rejected += 1
        log.warning("dropped an invalid announcement on %s from %s: %s", channel.name, sender, exc)
        if sender:
            await self._peers.rejected(sender)


def content_cids(channel: Channel, raws: Iterable[bytes]) -> list[str]:
    """The content blocks the valid entries among ``raws`` name: what to fetch with them
    when they came by CID rather than in an announcement."""
    named = []
    for raw in raws:
        try:
            cid = _content_cid(channel, envelope.parse(raw))
        except InvalidEnvelope:
            continue  # refused, and counted, when ingested
        if cid is not None:
            named.append(cid)
    return named


def _content_cid(channel: Channel, entry: Envelope) -> str | None:
    if entry.channel != channel.id:
        return None
    reference = open_body(channel, entry.body).get("content")
    return str(reference["cid"]) if isinstance(reference, dict) else None
