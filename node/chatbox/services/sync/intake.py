"""Entries a peer sent: verified, the valid ones indexed, the sender counted for the rest."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

from chatbox.domain import envelope
from chatbox.domain.channels import Channel
from chatbox.domain.envelope import Envelope
from chatbox.errors import ChatboxError, InvalidEnvelope
from chatbox.ports import FilePins, PeerBook
from chatbox.services.messages import referenced_file
from chatbox.services.sync.report import SyncReport

log = logging.getLogger("chatbox.services.sync")


class EntryIndex(Protocol):
    """Where entries from peers go: ``MessageService`` on a box."""

    def readable(self, channel: Channel, entry: Envelope) -> dict[str, Any]: ...
    async def accept_many(
        self, channel: Channel, opened: list[tuple[Envelope, dict[str, Any]]]
    ) -> list[Envelope]: ...


class EntryIntake:
    def __init__(
        self, index: EntryIndex, files: FilePins, peers: PeerBook, report: SyncReport
    ) -> None:
        self._index = index
        self._files = files
        self._peers = peers
        self._report = report

    async def ingest(self, channel: Channel, raws: Iterable[bytes], sender: str) -> list[Envelope]:
        """Index the valid entries among ``raws``; returns those that were new here.

        ``sender`` is the peer they came from, or "" when fetched by CID.
        """
        opened: list[tuple[Envelope, dict[str, Any]]] = []
        files: dict[str, str] = {}  # entry cid -> the file it refers to
        for raw in raws:
            try:
                entry = envelope.parse(raw)
                body = self._index.readable(channel, entry)
            except InvalidEnvelope as exc:
                await self.reject(sender, channel, exc)
                continue
            opened.append((entry, body))
            if (file_cid := referenced_file(body)) is not None:
                files[entry.cid] = file_cid
        if not opened:
            return []
        added = await self._index.accept_many(channel, opened)
        self._report.received += len(added)
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
