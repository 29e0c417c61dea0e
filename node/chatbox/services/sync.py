"""Channel sync between boxes over IPFS pubsub (DESIGN.md section 3).

Each channel this box holds has a subscription to its topic. A post here is announced at
once with the new entries inline; heads are exchanged when a peer connects and every
``exchange`` seconds. A box that hears of heads it lacks asks their sender for a pack (a
``want`` carrying a sample of its own log) and, if no pack comes, fetches the missing
entries by CID through IPFS, many at a time. Every entry is verified before it is
indexed; whatever is invalid is dropped and its sender counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from chatbox.domain import envelope, sync
from chatbox.domain.channels import Channel, pubsub_topic
from chatbox.domain.cid import raw_cid
from chatbox.domain.envelope import Envelope
from chatbox.domain.identity import Identity
from chatbox.errors import ChatboxError, InvalidEnvelope, Unavailable
from chatbox.ports import FilePins, LogReplica, PeerBook, PeerNetwork, RemotePerson
from chatbox.services.channels import ChannelService
from chatbox.services.messages import MessageService, referenced_file
from chatbox.services.supervisor import TaskSupervisor

log = logging.getLogger(__name__)
FETCHES_IN_FLIGHT = 32
FETCH_TIMEOUT = 20.0
HEARD_EVERY = 10.0  # seconds between buddy-list writes for one box


@dataclass(frozen=True)
class SyncTiming:
    exchange: float = 30.0  # periodic head exchange, which repairs what pubsub lost
    settle: float = 0.5  # after a peer connects or a subscription opens: time for gossipsub
    watch: float = 2.0  # how often new channels and new connections are looked for
    repair: float = 3.0  # a want unanswered this long: fetch the entries by CID instead
    retry: float = 2.0  # resubscribe after IPFS dropped a subscription
    redial: float = 30.0  # dial a known box again this long after the last try


DEFAULT_SYNC_TIMING = SyncTiming()


class ChannelSync:
    def __init__(
        self,
        box: Identity,
        box_name: str,
        network: PeerNetwork,
        replica: LogReplica,
        peers: PeerBook,
        files: FilePins,
        channels: ChannelService,
        messages: MessageService,
        local_names: Callable[[], Awaitable[dict[str, str]]],
        timing: SyncTiming = DEFAULT_SYNC_TIMING,
    ) -> None:
        self._box = box
        self._name = box_name
        self._network = network
        self._replica = replica
        self._peers = peers
        self._files = files
        self._channels = channels
        self._messages = messages
        self._local_names = local_names
        self._remote: dict[str, RemotePerson] | None = None  # loaded from SQLite once
        self._names: dict[str, str] | None = None
        self._timing = timing
        self._peer_id = ""
        self._listeners: dict[str, asyncio.Task[None]] = {}
        self._subscribed: set[str] = set()  # channels whose subscription had time to open
        self._channels_changed = asyncio.Event()
        self._outgoing: dict[str, list[Envelope]] = {}
        self._flushing: dict[str, asyncio.Task[None]] = {}
        self._repairs: dict[str, asyncio.Task[None]] = {}
        self._wanted: dict[str, set[str]] = {}
        self._recent: dict[tuple[str, ...], float] = {}
        self._tasks = TaskSupervisor("sync", self._task_failed)
        self.received = 0
        self.rejected = 0
        self.last_error: str | None = None

    async def run(self) -> None:
        """Keep every channel's subscription open and exchange heads periodically."""
        try:
            while not self._peer_id:
                try:
                    self._peer_id = (await self._network.identity()).peer_id
                except Unavailable as exc:
                    self._report(exc)
                    await asyncio.sleep(self._timing.retry)
            next_exchange = 0.0
            while True:
                self._channels_changed.clear()
                await self._follow_channels()
                if time.monotonic() >= next_exchange:
                    await self.exchange()
                    next_exchange = time.monotonic() + self._timing.exchange
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._timing.watch):
                        await self._channels_changed.wait()
        finally:
            for task in self._listeners.values():
                task.cancel()
            self._tasks.cancel()

    def follow_new_channels(self) -> None:
        """A channel came to this box: subscribe to it now, not at the next look."""
        self._channels_changed.set()

    async def exchange(self) -> None:
        """Announce the heads of every channel subscribed to (on a new peer, periodically).

        A channel not yet subscribed to waits for its greeting: the answers to an
        announcement made before would reach this box's IPFS node and nobody else.
        """
        for channel in await self._channels.all():
            if channel.id in self._subscribed:
                await self._announce_heads(channel)

    async def people(self) -> list[RemotePerson]:
        """Authors on other boxes whose entries reached this one, as their boxes name them."""
        remote = await self._remote_people()
        return sorted(remote.values(), key=lambda person: (person.name, person.box_name))

    async def names(self) -> dict[str, str]:
        """Display names of authors on other boxes: their name and their box's.

        Asked for every message shown, so kept built between arrivals of new names.
        """
        if self._names is None:
            remote = await self._remote_people()
            self._names = {p.public_key: f"{p.name} ({p.box_name})" for p in remote.values()}
        return self._names

    def status(self) -> dict[str, object]:
        return {
            "channels": len(self._listeners),
            "received": self.received,
            "rejected": self.rejected,
            "last_error": self.last_error,
        }

    # Subscriptions

    async def _follow_channels(self) -> None:
        for channel in await self._channels.all():
            task = self._listeners.get(channel.id)
            if task is not None and task.done() and not task.cancelled():
                log.error(
                    "sync of %s stopped; restarting it", channel.name, exc_info=task.exception()
                )
            if task is None or task.done():
                self._listeners[channel.id] = asyncio.create_task(
                    self._listen(channel), name=f"sync {channel.name}"
                )
                self._tasks.spawn(self._greet(channel))

    async def _greet(self, channel: Channel) -> None:
        """Announce a newly followed channel's heads, even none, once subscribed.

        Boxes holding more answer with their heads, so a channel just joined (or a box
        just started) catches up at once instead of at the next periodic exchange.
        """
        await asyncio.sleep(self._timing.settle)
        self._subscribed.add(channel.id)
        await self._announce_heads(channel)

    async def _listen(self, channel: Channel) -> None:
        topic = pubsub_topic(channel)
        while True:
            try:
                async for sender, data in self._network.subscribe(topic):
                    await self._handle(channel, sender, data)
            except Unavailable as exc:
                self._report(exc)
            await asyncio.sleep(self._timing.retry)

    async def _handle(self, channel: Channel, sender: str, data: bytes) -> None:
        if sender == self._peer_id:
            return  # our own announcement, echoed back by the daemon
        try:
            announcement = sync.decode(data, channel.id, channel.key, sender)
        except InvalidEnvelope as exc:
            await self._reject(sender, channel, exc)
            return
        try:
            await self._heard(sender, announcement)
            if announcement.kind == "heads":
                await self._on_heads(channel, announcement)
            elif announcement.to == self._box.public_key and announcement.kind == "want":
                # One pack per asker and channel at a time: a burst of wants (or a peer
                # asking on purpose) never multiplies what this box sends.
                if self._due(("pack", channel.id, announcement.box), self._timing.repair):
                    self._tasks.spawn(self._send_pack(channel, announcement))
            elif announcement.to == self._box.public_key:
                added = await self._ingest(channel, announcement.entries, sender)
                await self._met(announcement, added)
        except Unavailable as exc:
            self._report(exc)
        except ChatboxError as exc:  # one bad exchange must not end the channel's sync
            log.warning("sync of %s: %s", channel.name, exc.message)

    # The three kinds

    async def _on_heads(self, channel: Channel, heads: sync.Announcement) -> None:
        await self._met(heads, await self._ingest(channel, heads.entries, heads.peer))
        unknown = set(heads.cids) - await self._replica.held(list(heads.cids))
        if unknown:
            self._wanted.setdefault(channel.id, set()).update(unknown)
            if self._due(("want", channel.id, heads.box), self._timing.repair):
                await self._publish(channel, "want", await self._sample(channel), heads.box)
            self._schedule_repair(channel)
        elif set(heads.cids) != {
            cid for cid, _ in await self._replica.heads(channel.id)
        } and self._due(("heads", channel.id, heads.box), self._timing.repair):
            await self._announce_heads(channel)  # the sender may lack what we hold

    async def _send_pack(self, channel: Channel, want: sync.Announcement) -> None:
        """Send the asker every entry that is not an ancestor of what it holds."""
        cids = sync.lacking(await self._replica.log_links(channel.id), want.cids)
        envelopes = await self._replica.envelopes(cids)
        # Entries indexed before their bytes were kept in SQLite come from IPFS.
        older = [cid for cid in cids if cid not in envelopes]
        for cid, raw in zip(older, await self._blocks(older), strict=True):
            if raw is not None:
                envelopes[cid] = raw
        # The names of this box's accounts go along; the asker keeps those of authors the
        # packs held. Capped to what one announcement may list.
        names = dict(list((await self._local_names()).items())[: sync.MAX_LISTED_CIDS])
        for pack in sync.packs([envelopes[cid] for cid in cids if cid in envelopes]):
            await self._publish(channel, "pack", [], want.box, pack, names)
        log.debug("sent %d entries of %s to %s", len(cids), channel.name, want.name)

    async def _ingest(self, channel: Channel, raws: Iterable[bytes], sender: str) -> list[Envelope]:
        """Verify entries a peer sent; index the valid ones, count the sender for the rest.

        Returns the entries that were new here.
        """
        opened: list[tuple[Envelope, dict[str, Any]]] = []
        files: dict[str, str] = {}  # entry cid -> the file it refers to
        for raw in raws:
            try:
                entry = envelope.parse(raw)
                body = self._messages.readable(channel, entry)
            except InvalidEnvelope as exc:
                await self._reject(sender, channel, exc)
                continue
            opened.append((entry, body))
            if (file_cid := referenced_file(body)) is not None:
                files[entry.cid] = file_cid
        if not opened:
            return []
        added = await self._messages.accept_many(channel, opened)
        self.received += len(added)
        wanted = [(files[entry.cid], channel.id) for entry in added if entry.cid in files]
        if wanted:  # pinned by the file pinner, whoever posted them
            await self._files.want_files(wanted)
        parents = list({cid for entry in added for cid in entry.prev})
        if len(await self._replica.held(parents)) < len(parents):
            self._schedule_repair(channel)
        return added

    async def _met(self, announcement: sync.Announcement, added: list[Envelope]) -> None:
        """Learn the names of the authors a box's announcement carried entries of."""
        if not announcement.people or not added:
            return
        newest: dict[str, int] = {}
        for entry in added:
            newest[entry.author] = max(newest.get(entry.author, 0), entry.ts // 1000)
        local = await self._local_names()
        met = [
            RemotePerson(key, name, announcement.name, newest[key])
            for key, name in announcement.people
            if key in newest and key not in local
        ]
        if met:
            await self._peers.met(met)
            (await self._remote_people()).update({person.public_key: person for person in met})
            self._names = None

    # Repair: fetch by CID what packs did not bring

    def _schedule_repair(self, channel: Channel) -> None:
        running = self._repairs.get(channel.id)
        if running is None or running.done():
            self._repairs[channel.id] = self._tasks.spawn(self._repair(channel))

    async def _repair(self, channel: Channel) -> None:
        await asyncio.sleep(self._timing.repair)
        while True:
            wanted = self._wanted.pop(channel.id, set())
            missing = set(await self._replica.dangling(channel.id))
            missing |= wanted - await self._replica.held(list(wanted))
            if not missing:
                return
            fetched = await self._fetch(channel, sorted(missing))
            if not fetched:
                return  # nobody serves them now; the next exchange tries again

    async def _fetch(self, channel: Channel, cids: list[str]) -> int:
        raws = [raw for raw in await self._blocks(cids) if raw is not None]
        return len(await self._ingest(channel, raws, ""))

    async def _blocks(self, cids: list[str]) -> list[bytes | None]:
        """Blocks by CID through IPFS (from peers by bitswap), many in flight; None if not."""
        gate = asyncio.Semaphore(FETCHES_IN_FLIGHT)

        async def fetch(cid: str) -> bytes | None:
            async with gate:
                try:
                    raw = await self._network.get_block(cid, timeout=FETCH_TIMEOUT)
                except ChatboxError:
                    return None
            return raw if raw_cid(raw) == cid else None

        return list(await asyncio.gather(*map(fetch, cids)))

    # Sending

    def announce_post(self, channel: Channel, entry: Envelope) -> None:
        """A post on this box: announce it soon, with others posted meanwhile (the root
        hands this to ``MessageService.on_post``)."""
        self._outgoing.setdefault(channel.id, []).append(entry)
        running = self._flushing.get(channel.id)
        if running is None or running.done():
            self._flushing[channel.id] = self._tasks.spawn(self._flush(channel))

    async def _flush(self, channel: Channel) -> None:
        while self._outgoing.get(channel.id):
            entries = self._outgoing.pop(channel.id)
            heads = [entries[-1].cid]
            names = await self._local_names()
            people = {
                entry.author: names[entry.author] for entry in entries if entry.author in names
            }
            for pack in sync.packs([entry.raw for entry in entries]):
                try:
                    await self._publish(channel, "heads", heads, "", pack, people)
                except Unavailable as exc:
                    self._report(exc)  # the next exchange announces these heads again

    async def _announce_heads(self, channel: Channel) -> None:
        # No heads is news too: a box that holds entries answers with its own.
        heads = [cid for cid, _ in await self._replica.heads(channel.id)]
        try:
            await self._publish(channel, "heads", heads[: sync.MAX_LISTED_CIDS], "")
        except Unavailable as exc:
            self._report(exc)

    async def _publish(
        self,
        channel: Channel,
        kind: sync.Kind,
        cids: list[str],
        to: str,
        entries: list[bytes] | None = None,
        people: dict[str, str] | None = None,
    ) -> None:
        announcement = sync.Announcement(
            kind=kind,
            box=self._box.public_key,
            name=self._name,
            peer=self._peer_id,
            channel=channel.id,
            ts=time.time_ns() // 1_000_000,
            cids=tuple(cids),
            to=to,
            entries=tuple(entries or ()),
            people=tuple(sorted((people or {}).items())),
        )
        data = sync.encode(announcement, self._box, channel.key)
        await self._network.publish(pubsub_topic(channel), data)

    async def _sample(self, channel: Channel) -> list[str]:
        log_links = await self._replica.log_links(channel.id)
        newest_first = sorted(log_links, key=lambda cid: (log_links[cid][0], cid), reverse=True)
        return sync.sample(newest_first)

    # Helpers

    async def _remote_people(self) -> dict[str, RemotePerson]:
        if self._remote is None:
            self._remote = {p.public_key: p for p in await self._peers.remote_people()}
        return self._remote

    def _due(self, key: tuple[str, ...], every: float) -> bool:
        """True at most once per ``every`` seconds for each ``key``."""
        now = time.monotonic()
        if now - self._recent.get(key, -every) < every:
            return False
        self._recent[key] = now
        return True

    async def _heard(self, sender: str, announcement: sync.Announcement) -> None:
        # One write per box every few seconds, not one per message.
        if self._due(("heard", sender), HEARD_EVERY):
            await self._peers.heard(sender, announcement.box, announcement.name)

    async def _reject(self, sender: str, channel: Channel, exc: ChatboxError) -> None:
        self.rejected += 1
        log.warning("dropped an invalid announcement on %s from %s: %s", channel.name, sender, exc)
        if sender:
            await self._peers.rejected(sender)

    def _task_failed(self, error: BaseException) -> bool:
        """A daemon that went away is reported once, as for the loop's own calls."""
        if isinstance(error, Unavailable):
            self._report(error)
            return True
        return False

    def _report(self, exc: Unavailable) -> None:
        if self.last_error != exc.message:
            detail = f" ({exc.detail})" if exc.detail else ""
            log.warning("sync with other boxes waits: %s%s", exc.message, detail)
        self.last_error = exc.message
