"""The heads/want/pack protocol: what to answer to each announcement, and what to announce.

A ``heads`` naming entries this box lacks is answered with a ``want`` to its sender (once
per repair interval) and a repair is scheduled in case no pack comes; a ``want`` to this
box is answered with the ``pack`` of what the asker lacks; a ``pack`` is indexed. Posts
made here are announced as ``heads`` with the new entries inline.
"""

from __future__ import annotations

import asyncio
import logging

from chatbox.domain import sync
from chatbox.domain.channels import Channel
from chatbox.domain.envelope import Envelope
from chatbox.errors import Unavailable
from chatbox.ports import LogReplica
from chatbox.services.supervisor import TaskSupervisor
from chatbox.services.sync.announcer import Announcer
from chatbox.services.sync.intake import EntryIntake
from chatbox.services.sync.pacing import Pacer
from chatbox.services.sync.people import RemotePeople
from chatbox.services.sync.repair import LogRepair
from chatbox.services.sync.report import SyncReport

log = logging.getLogger("chatbox.services.sync")


class HeadsExchange:
    def __init__(
        self,
        announcer: Announcer,
        replica: LogReplica,
        intake: EntryIntake,
        repair: LogRepair,
        people: RemotePeople,
        tasks: TaskSupervisor,
        report: SyncReport,
        answer_every: float,
    ) -> None:
        self._announcer = announcer
        self._replica = replica
        self._intake = intake
        self._repair = repair
        self._people = people
        self._tasks = tasks
        self._report = report
        # At most one want, pack or heads to each box and channel this often.
        self._answers = Pacer(answer_every)
        self._outgoing: dict[str, list[tuple[Envelope, bytes | None]]] = {}
        self._flushing: dict[str, asyncio.Task[None]] = {}

    async def handle(self, channel: Channel, announcement: sync.Announcement) -> None:
        """Answer one verified announcement heard on ``channel``'s topic."""
        me = self._announcer.box_key
        if announcement.kind == "heads":
            await self._on_heads(channel, announcement)
        elif announcement.to == me and announcement.kind == "want":
            # One pack per asker and channel at a time: a burst of wants (or a peer
            # asking on purpose) never multiplies what this box sends.
            if self._answers.due("pack", channel.id, announcement.box):
                self._tasks.spawn(self._send_pack(channel, announcement))
        elif announcement.to == me:
            await self._take(channel, announcement)

    def announce_post(self, channel: Channel, entry: Envelope, block: bytes | None) -> None:
        """A post on this box (with its content block, if it has one): announce it soon,
        with others posted meanwhile (the root hands this to ``MessageService.on_post``)."""
        self._outgoing.setdefault(channel.id, []).append((entry, block))
        running = self._flushing.get(channel.id)
        if running is None or running.done():
            self._flushing[channel.id] = self._tasks.spawn(self._flush(channel))

    async def announce_heads(self, channel: Channel) -> None:
        """Announce this box's heads of ``channel``; no heads is news too, since a box that
        holds entries answers with its own."""
        heads = [cid for cid, _ in await self._replica.heads(channel.id)]
        try:
            await self._announcer.publish(channel, "heads", heads[: sync.MAX_LISTED_CIDS])
        except Unavailable as exc:
            self._report.unavailable(exc)

    async def _on_heads(self, channel: Channel, heads: sync.Announcement) -> None:
        await self._take(channel, heads)
        unknown = set(heads.cids) - await self._replica.held(list(heads.cids))
        if unknown:
            if self._answers.due("want", channel.id, heads.box):
                sample = await self._sample(channel)
                await self._announcer.publish(channel, "want", sample, heads.box)
            self._repair.want(channel, unknown)
        elif set(heads.cids) != {
            cid for cid, _ in await self._replica.heads(channel.id)
        } and self._answers.due("heads", channel.id, heads.box):
            await self.announce_heads(channel)  # the sender may lack what we hold

    async def _take(self, channel: Channel, announcement: sync.Announcement) -> None:
        """Index the entries an announcement carried and learn their authors' names."""
        added = await self._intake.ingest(
            channel, announcement.entries, announcement.peer, announcement.contents
        )
        await self._people.met(announcement, added)
        parents = list({cid for entry in added for cid in entry.prev})
        if len(await self._replica.held(parents)) < len(parents):
            self._repair.schedule(channel)

    async def _send_pack(self, channel: Channel, want: sync.Announcement) -> None:
        """Send the asker every entry that is not an ancestor of what it holds."""
        cids = sync.lacking(await self._replica.log_links(channel.id), want.cids)
        envelopes = await self._replica.envelopes(cids)
        # Entries indexed before their bytes were kept in SQLite come from IPFS.
        older = [cid for cid in cids if cid not in envelopes]
        for cid, raw in zip(older, await self._repair.blocks(older), strict=True):
            if raw is not None:
                envelopes[cid] = raw
        # The names of this box's accounts go along; the asker keeps those of authors the
        # packs held. Capped to what one announcement may list.
        local = await self._people.local_names()
        names = dict(list(local.items())[: sync.MAX_LISTED_CIDS])
        contents = await self._replica.contents(cids)
        held = [(envelopes[cid], contents.get(cid)) for cid in cids if cid in envelopes]
        for pack in sync.packs(held, size=_pair_size):
            raws, blocks = _unzip(pack)
            await self._announcer.publish(channel, "pack", [], want.box, raws, names, blocks)
        log.debug("sent %d entries of %s to %s", len(cids), channel.name, want.name)

    async def _flush(self, channel: Channel) -> None:
        while self._outgoing.get(channel.id):
            posted = self._outgoing.pop(channel.id)
            heads = [posted[-1][0].cid]
            names = await self._people.local_names()
            people = {
                entry.author: names[entry.author] for entry, _ in posted if entry.author in names
            }
            for pack in sync.packs(
                [(entry.raw, block) for entry, block in posted], size=_pair_size
            ):
                raws, blocks = _unzip(pack)
                try:
                    await self._announcer.publish(channel, "heads", heads, "", raws, people, blocks)
                except Unavailable as exc:
                    self._report.unavailable(exc)  # the next exchange announces them again

    async def _sample(self, channel: Channel) -> list[str]:
        log_links = await self._replica.log_links(channel.id)
        newest_first = sorted(log_links, key=lambda cid: (log_links[cid][0], cid), reverse=True)
        return sync.sample(newest_first)


def _pair_size(pair: tuple[bytes, bytes | None]) -> int:
    return len(pair[0]) + len(pair[1] or b"")


def _unzip(pack: list[tuple[bytes, bytes | None]]) -> tuple[list[bytes], list[bytes]]:
    """An envelope list and the content blocks that go with it."""
    return [raw for raw, _ in pack], [block for _, block in pack if block is not None]
