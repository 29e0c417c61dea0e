"""Two and three boxes on real IPFS daemons: live delivery, files, partitions, privacy."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import aiohttp
import pytest

from chatbox.adapters.ipfs import IpfsClient
from chatbox.daemon import Node
from chatbox.devstack import IpfsDaemon
from chatbox.domain import envelope, sync
from chatbox.domain.channels import Channel, pubsub_topic
from chatbox.domain.cid import raw_cid
from chatbox.domain.identity import Identity
from chatbox.errors import NotFound
from chatbox.services.accounts import Member
from tests.conftest import eventually
from tests.sync.conftest import Boxes, admin, history, peer_with


async def _chunks(data: bytes, size: int = 64_000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_a_message_reaches_the_other_box_live_and_a_file_downloads_there(
    boxes: Boxes, daemons: list[IpfsDaemon]
) -> None:
    a, b, alice, bob, channel = await _general_on_two_boxes(boxes, daemons)
    # Shown on the other box by the name she chose, in any script, not her login name.
    alice = await a.services.sessions.rename(alice, "  Alice   Müller-Łęcka ")

    arrived: asyncio.Queue[str] = asyncio.Queue()

    async def watch() -> None:
        async for message in b.services.live.watch(channel.id, bob.account_id, quiet_after=0.2):
            if message is not None:
                await arrived.put(message.text or "")

    watcher = asyncio.create_task(watch())
    try:
        # The first posts may go out before gossipsub knows B's subscription; the
        # head exchange on connect repairs that, and from then on each arrives live.
        await eventually(
            lambda: _posted_and_seen(a, alice, channel.id, arrived), what="live arrival on B"
        )
    finally:
        watcher.cancel()
    photo = os.urandom(300_000)
    upload = await a.services.files.post_file(
        alice, channel.id, "photo.bin", "application/octet-stream", _chunks(photo)
    )
    assert upload.file is not None

    async def downloaded() -> bool:
        try:
            download = await b.services.files.open_file(bob, upload.file["cid"])  # type: ignore[index]
        except Exception:
            return False
        return b"".join([chunk async for chunk in download.chunks]) == photo

    await eventually(downloaded, what="the file downloading on B")
    await eventually(lambda: _pinned_files(b, 1), what="B pinning the file that came from A")
    await b.services.outbox.drained()  # B pinned A's entries on its own IPFS too
    # B learned from A's announcements what A's accounts are called.
    shown = (await b.services.accounts.names())[alice.identity.public_key]
    assert shown == "Alice Müller-Łęcka (box-a)"
    seen = {p.name: p for p in await b.services.peers.people()}
    assert seen["Alice Müller-Łęcka"].box == "box-a"
    assert seen["Alice Müller-Łęcka"].availability == "online"
    boxes = await b.services.peers.boxes()
    assert [(box.name, box.availability) for box in boxes] == [("box-a", "online")]
    assert [m.text for m in await history(b, bob, channel.id)][-1] is None  # the file message
    # What arrived from A is found by search on B, the file by its name too.
    found = await b.services.search.search(bob, "photo")
    assert [(f.message.author, (f.message.file or {}).get("name")) for f in found] == [
        (alice.identity.public_key, "photo.bin")
    ]
    assert await b.services.search.search(bob, "hello from") != []


async def _posted_and_seen(
    a: Node, alice: Member, channel_id: str, arrived: asyncio.Queue[str]
) -> bool:
    text = f"hello from A {os.urandom(4).hex()}"
    await a.services.messages.post_text(alice, channel_id, text)
    try:
        while True:
            async with asyncio.timeout(1.0):
                if await arrived.get() == text:
                    return True
    except TimeoutError:
        return False


async def _pinned_files(node: Node, count: int) -> bool:
    files = (await node.services.status.status())["sync"]["files"]
    return bool(files == {"pinned": count, "waiting": 0})


async def test_partitioned_boxes_converge_on_one_history_after_healing(
    boxes: Boxes, daemons: list[IpfsDaemon]
) -> None:
    a, b, alice, bob, channel = await _general_on_two_boxes(boxes, daemons)
    await _first_message_arrives(a, b, alice, bob, channel.id, "before the partition")

    # The partition: B's IPFS node goes away, so neither pubsub nor bitswap reach it.
    await asyncio.to_thread(daemons[1].stop)
    for number in range(500):
        await a.services.messages.post_text(alice, channel.id, f"a {number}")
    for number in range(50):
        await b.services.messages.post_text(bob, channel.id, f"b {number}")
    await boxes.stop(b)  # B's node restarts while still cut off
    b = await boxes.start("box-b", daemons[1])
    for number in range(50, 100):
        await b.services.messages.post_text(bob, channel.id, f"b {number}")

    await asyncio.to_thread(
        daemons[1].start
    )  # healed: B's node dials A again and both exchange heads
    await eventually(lambda: _count(a, alice, channel.id, 601), 60, "A holding B's posts")
    await eventually(lambda: _count(b, bob, channel.id, 601), 60, "B holding A's posts")

    on_a = await history(a, alice, channel.id)
    on_b = await history(b, bob, channel.id)
    assert [m.cid for m in on_a] == [m.cid for m in on_b]
    texts = [m.text for m in on_a]
    assert len(set(texts)) == 601  # nothing twice
    assert set(texts) == {"before the partition"} | {f"a {n}" for n in range(500)} | {
        f"b {n}" for n in range(100)
    }
    # Each box's own posts keep their order in the merged history.
    assert [t for t in texts if t.startswith("b ")] == [f"b {n}" for n in range(100)]
    await b.services.outbox.drained()  # and B pinned all of them on its own IPFS


async def _count(node: Node, reader: Member, channel_id: str, expected: int) -> bool:
    return len(await history(node, reader, channel_id)) >= expected


async def test_forged_announcements_and_entries_are_rejected_and_nothing_is_stored(
    boxes: Boxes, daemons: list[IpfsDaemon]
) -> None:
    a, b, alice, bob, channel = await _general_on_two_boxes(boxes, daemons)
    await _first_message_arrives(a, b, alice, bob, channel.id, "real")

    # A rogue program on A's IPFS node publishes on the channel's topic directly.
    author = Identity.generate()
    genuine = envelope.create(author, channel.id, 1, [], 1, {"text": "signed properly"})
    edited = genuine.raw.replace(b"signed properly", b"signed otherwise")
    async with aiohttp.ClientSession() as session:
        rogue = IpfsClient(session, daemons[0].api_url)
        peer = (await rogue.identity()).peer_id

        def heads(box: Identity, entries: list[bytes]) -> sync.Announcement:
            return sync.Announcement(
                "heads", box.public_key, "rogue", peer, channel.id, 1, (), "", tuple(entries)
            )

        box = Identity.generate()
        forged_entry = sync.encode(heads(box, [edited]), box, None)
        # Signed by another key than the box it names: the whole announcement is void,
        # including the valid entry it carries.
        bad_signature = sync.encode(heads(box, [genuine.raw]), Identity.generate(), None)
        for data in (forged_entry, bad_signature, b"not an announcement"):
            await rogue.publish(pubsub_topic(channel), data)

    async def all_rejected() -> bool:
        sync_status = (await b.services.status.status())["sync"]
        return bool(sync_status["rejected_by_peer"].get(peer, 0) >= 3)

    await eventually(all_rejected, what="B counting three rejections against A's peer")
    # A message after the forgeries still flows; nothing forged was stored on the way.
    await a.services.messages.post_text(alice, channel.id, "still working")
    await eventually(lambda: _count(b, bob, channel.id, 2), what="the next message on B")
    texts = [m.text for m in await history(b, bob, channel.id)]
    assert texts == ["real", "still working"]
    for cid in (genuine.cid, raw_cid(edited)):
        with pytest.raises(NotFound):
            await b.services.messages.find(bob, cid)


async def test_a_box_without_the_key_learns_nothing_of_a_private_channel(
    boxes: Boxes, daemons: list[IpfsDaemon]
) -> None:
    a = await boxes.start("box-a", daemons[0])
    b = await boxes.start("box-b", daemons[1])
    c = await boxes.start("box-c", daemons[2])
    alice, bob, carol = (
        await admin(a, "alice"),
        await admin(b, "bob"),
        await admin(c, "carol"),
    )
    secret = await a.services.channels.create(alice, "family", "private")
    await b.services.channels.accept_invite(bob, await a.services.channels.invite(alice, secret.id))
    await c.services.channels.create(carol, "lobby", "public")
    await peer_with(b, daemons[0])
    await peer_with(c, daemons[0])
    await peer_with(c, daemons[1])

    async with aiohttp.ClientSession() as session:
        snoop = IpfsClient(session, daemons[2].api_url)
        # Whatever C's node may subscribe to without the key: the topic a public channel
        # of that id would have.
        overheard: list[bytes] = []

        async def listen() -> None:
            async for _, data in snoop.subscribe(f"chatbox/v1/{secret.id}"):
                overheard.append(data)

        listener = asyncio.create_task(listen())
        try:
            for number in range(20):
                await a.services.messages.post_text(alice, secret.id, f"secret {number}")
            await eventually(lambda: _count(b, bob, secret.id, 20), what="B reading the channel")
        finally:
            listener.cancel()

    assert [m.text for m in await history(b, bob, secret.id)] == [f"secret {n}" for n in range(20)]
    assert overheard == []
    # B finds the synced private messages by scanning them; C, without the key, finds none.
    assert len(await b.services.search.search(bob, "secret")) == 20
    assert await c.services.search.search(carol, "secret") == []
    with pytest.raises(NotFound):
        await c.services.channels.get(secret.id)
    c_status = (await c.services.status.status())["sync"]
    assert c_status["received"] == 0 and c_status["rejected"] == 0
    for message in await history(b, bob, secret.id):
        with pytest.raises(NotFound):
            await c.services.messages.find(carol, message.cid)


async def _general_on_two_boxes(
    boxes: Boxes, daemons: list[IpfsDaemon]
) -> tuple[Node, Node, Member, Member, Channel]:
    """Boxes A and B, each with an admin in the public channel 'general', B peered to A."""
    a = await boxes.start("box-a", daemons[0])
    b = await boxes.start("box-b", daemons[1])
    alice, bob = await admin(a, "alice"), await admin(b, "bob")
    channel = await a.services.channels.create(alice, "general", "public")
    # A public channel's id is its name's hash: the same channel on every box.
    assert (await b.services.channels.create(bob, "general", "public")).id == channel.id
    await peer_with(b, daemons[0])
    return a, b, alice, bob, channel


async def _first_message_arrives(
    a: Node, b: Node, alice: Member, bob: Member, channel_id: str, text: str
) -> None:
    await a.services.messages.post_text(alice, channel_id, text)
    await eventually(lambda: _count(b, bob, channel_id, 1), what="the first message on B")
