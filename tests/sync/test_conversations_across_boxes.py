"""Replies, reactions, edits and deletes between two boxes on their own real Kubo daemons:
what B shows of what A's people do, and what neither keeps after a delete."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator

import aiohttp

from chatbox.adapters.ipfs import IpfsClient
from chatbox.daemon import DATABASE_FILE, Node
from chatbox.devstack import IpfsDaemon
from chatbox.services.accounts import Member
from tests.conftest import eventually
from tests.sync.conftest import Boxes, admin, history, peer_with


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_replies_reactions_edits_and_a_delete_take_effect_on_both_boxes(
    boxes: Boxes, daemons: list[IpfsDaemon]
) -> None:
    a = await boxes.start("box-a", daemons[0])
    b = await boxes.start("box-b", daemons[1])
    alice, bob = await admin(a, "alice"), await admin(b, "bob")
    channel = await a.services.channels.create(alice, "club", "public")
    await b.services.channels.create(bob, "club", "public")
    await peer_with(b, daemons[0])
    kept = await a.services.messages.post_text(alice, channel.id, "the club meets on Monday")
    await eventually(lambda: _texts_are(b, bob, channel.id, [kept.text]), what="A's post on B")

    question = await a.services.messages.post_text(alice, channel.id, "bring a kestrel photo")
    await eventually(lambda: _has(b, bob, channel.id, question.cid), what="the question on B")
    reply = await b.services.messages.post_text(bob, channel.id, "will do", question.cid)
    await b.services.messages.react(bob, question.cid, "👍", True)
    await a.services.messages.edit(alice, question.cid, "bring a kestrel picture")

    async def folded_on(node: Node, reader: Member) -> bool:
        shown = await node.services.messages.find(reader, question.cid)
        return (
            shown.text == "bring a kestrel picture"
            and shown.replies == 1
            and shown.reactions == {"👍": [bob.identity.public_key]}
        )

    await eventually(lambda: folded_on(a, alice), what="B's reply and reaction on A")
    await eventually(lambda: folded_on(b, bob), what="A's edit on B")
    thread = await a.services.messages.thread(alice, question.cid)
    assert [m.text for m in thread] == ["bring a kestrel picture", "will do"]
    assert thread[1].cid == reply.cid

    photo = os.urandom(200_000)
    picture = await a.services.files.post_file(
        alice, channel.id, "kestrel.jpg", "image/jpeg", _chunks(photo)
    )
    assert picture.file is not None
    file_cid = picture.file["cid"]
    await eventually(lambda: _pinned(b, daemons[1], [file_cid]), what="B pinning the file")

    # A deletes the question (with its edit) and the picture; B does the same on arrival.
    await a.services.messages.delete(alice, question.cid)
    await a.services.messages.delete(alice, picture.cid)
    for node, reader in ((a, alice), (b, bob)):
        await eventually(
            lambda node=node, reader=reader: _deleted(node, reader, [question.cid, picture.cid]),
            what=f"the deletes taking effect on {node.settings.box_name}",
        )
    for node, daemon in ((a, daemons[0]), (b, daemons[1])):
        await node.services.outbox.drained()
        await node.services.outbox.flush()
        await eventually(
            lambda node=node, daemon=daemon: _unpinned(node, daemon, file_cid),
            what=f"the deleted file leaving IPFS on {node.settings.box_name}",
        )
        database = node.settings.data_dir / DATABASE_FILE
        stored = database.read_bytes()
        for word in (b"kestrel", b"kestrel.jpg"):
            assert word not in stored, (node.settings.box_name, word)
        assert await node.services.search.search(alice if node is a else bob, "kestrel") == []
        with sqlite3.connect(database) as db:
            dropped = db.execute(
                "SELECT count(*) FROM entries WHERE deleted = 1 AND content IS NULL"
            ).fetchone()[0]
        assert dropped == 3  # the question, its edit and the picture
    # The reply and the rest stay readable on both boxes, and the log is whole.
    for node, reader in ((a, alice), (b, bob)):
        shown = [(m.text, m.deleted) for m in await history(node, reader, channel.id)]
        assert shown == [(kept.text, False), (None, True), (None, True)]
        assert (await node.services.messages.find(reader, reply.cid)).text == "will do"
        with sqlite3.connect(node.settings.data_dir / DATABASE_FILE) as db:
            entries = db.execute(
                "SELECT count(*) FROM entries WHERE channel_id = ?", (channel.id,)
            ).fetchone()[0]
        assert entries == 8


async def _texts_are(node: Node, reader: Member, channel_id: str, texts: list[str | None]) -> bool:
    return [m.text for m in await history(node, reader, channel_id)] == texts


async def _has(node: Node, reader: Member, channel_id: str, cid: str) -> bool:
    return cid in {m.cid for m in await history(node, reader, channel_id)}


async def _deleted(node: Node, reader: Member, cids: list[str]) -> bool:
    shown = [await node.services.messages.find(reader, cid) for cid in cids]
    return all(m.deleted and m.text is None and m.file is None for m in shown)


async def _pinned(node: Node, daemon: IpfsDaemon, cids: list[str]) -> bool:
    async with aiohttp.ClientSession() as session:
        return await IpfsClient(session, daemon.api_url).pinned_among(cids) == set(cids)


async def _unpinned(node: Node, daemon: IpfsDaemon, cid: str) -> bool:
    async with aiohttp.ClientSession() as session:
        return await IpfsClient(session, daemon.api_url).pinned_among([cid]) == set()
