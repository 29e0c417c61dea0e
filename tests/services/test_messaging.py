"""Posting, reading, pinning and merging, on a real node with real Kubo and SQLite."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from chatbox.adapters.ipfs import IpfsClient
from chatbox.daemon import Node
from chatbox.domain import envelope
from chatbox.errors import InvalidEnvelope, InvalidInput, NotFound, Unauthorized
from chatbox.services.accounts import Member
from chatbox.services.message_bodies import content_block
from tests.conftest import FAST_OUTBOX, TEST_PASSWORD_COST, node_settings, unpinned

pytestmark = pytest.mark.usefixtures("no_blocking")


async def _history(node: Node, member: Member, channel_id: str) -> list[str]:
    texts, before = [], None
    while True:
        page = await node.services.messages.history(member, channel_id, before, 200)
        texts[:0] = [message.text or "" for message in page.messages]
        if page.before is None:
            return texts
        before = page.before


async def test_1000_messages_read_back_in_order_and_every_one_pinned(
    node: Node, alice: Member, ipfs: IpfsClient
) -> None:
    channel = await node.services.channels.create(alice, "general", "public")
    posted = [
        await node.services.messages.post_text(alice, channel.id, f"message {i}")
        for i in range(1000)
    ]
    assert [message.clock for message in posted] == list(range(1, 1001))
    assert await _history(node, alice, channel.id) == [f"message {i}" for i in range(1000)]

    await asyncio.wait_for(node.services.outbox.drained(), 120)
    assert await unpinned(ipfs, [message.cid for message in posted]) == []
    page = await node.services.messages.history(alice, channel.id, None, 10)
    assert all(message.pinned for message in page.messages)


async def test_history_pages_forward_from_a_message_to_the_newest(
    node: Node, alice: Member
) -> None:
    channel = await node.services.channels.create(alice, "forward", "public")
    posted = [
        await node.services.messages.post_text(alice, channel.id, f"message {i}")
        for i in range(120)
    ]
    texts, after = [], posted[9].cid
    while after is not None:
        page = await node.services.messages.history(alice, channel.id, None, 50, after=after)
        assert page.before is None
        texts += [message.text for message in page.messages]
        after = page.after
    assert texts == [f"message {i}" for i in range(10, 120)]
    with pytest.raises(InvalidInput, match="not both"):
        await node.services.messages.history(alice, channel.id, posted[5].cid, 10, posted[9].cid)
    with pytest.raises(NotFound):
        await node.services.messages.history(alice, channel.id, None, 10, "bafkreinotacid")


async def test_concurrent_posts_to_one_channel_chain_without_forks(
    node: Node, alice: Member
) -> None:
    channel = await node.services.channels.create(alice, "busy", "public")
    posted = await asyncio.gather(
        *(node.services.messages.post_text(alice, channel.id, f"m{i}") for i in range(200))
    )
    assert sorted(message.clock for message in posted) == list(range(1, 201))
    heads = await node.services.messages._log.heads(channel.id)  # type: ignore[attr-defined]
    assert len(heads) == 1


async def test_two_replicas_that_diverged_merge_to_identical_order(
    node: Node, alice: Member, tmp_path, ipfs_daemon
) -> None:
    other = Node(
        node_settings(tmp_path / "other", ipfs_daemon.api_url),
        password_cost=TEST_PASSWORD_COST,
        outbox_timing=FAST_OUTBOX,
    )
    await other.start()
    try:
        bob = await other.services.accounts.register("bob", "battery staple")
        here = await node.services.channels.create(alice, "shared", "public")
        there = await other.services.channels.create(bob, "shared", "public")
        assert here.id == there.id
        first = await node.services.messages.post_text(alice, here.id, "before the split")
        await _copy_log(node, other, here.id)
        for i in range(30):
            await node.services.messages.post_text(alice, here.id, f"alice {i}")
        for i in range(12):
            await other.services.messages.post_text(bob, here.id, f"bob {i}")

        await _copy_log(node, other, here.id)
        await _copy_log(other, node, here.id)
        mine, theirs = await _history(node, alice, here.id), await _history(other, bob, here.id)
        assert mine == theirs and len(mine) == 43 and mine[0] == first.text
        after = await node.services.messages.post_text(alice, here.id, "after the merge")
        assert after.clock == 32
    finally:
        await other.stop()


async def _copy_log(source: Node, target: Node, channel_id: str) -> None:
    """Hand every entry of the source's replica to the target, as sync will over pubsub."""
    store = source.services.messages._log  # type: ignore[attr-defined]
    channel = await target.services.channels.get(channel_id)
    records = await store.page(channel_id, None, 10_000)
    messages = target.services.messages
    for record in records:
        entry = envelope.parse(await _raw(source, record.cid), record.cid)
        block = (await store.contents([record.cid])).get(record.cid)
        await messages.accept_many(channel, [messages.understand(channel, entry, block)])


async def _raw(node: Node, cid: str) -> bytes:
    await node.services.outbox.drained()
    ipfs = node.services.files._content  # type: ignore[attr-defined]
    return bytes(await ipfs.get_block(cid))


async def test_forged_and_mismatched_entries_leave_nothing_behind(
    node: Node, alice: Member, ipfs: IpfsClient
) -> None:
    channel = await node.services.channels.create(alice, "guarded", "public")
    real = await node.services.messages.post_text(alice, channel.id, "genuine")
    await node.services.outbox.drained()
    raw = await ipfs.get_block(real.cid)
    forged = raw.replace(b'"clock":1', b'"clock":2')
    assert forged != raw
    with pytest.raises(InvalidEnvelope, match="signature"):
        envelope.parse(forged)
    with pytest.raises(InvalidEnvelope, match="CID"):
        envelope.parse(forged, expected_cid=real.cid)
    with pytest.raises(InvalidEnvelope):
        envelope.parse(b'{"v":1,"ch":')
    # The text lives in the content block the envelope names: another block is refused.
    entry = envelope.parse(raw, real.cid)
    other = content_block(channel, {"text": "GENUINE"})
    with pytest.raises(InvalidEnvelope, match="CID"):
        node.services.messages.understand(channel, entry, other)
    assert await _history(node, alice, channel.id) == ["genuine"]


async def test_unknown_channel_and_bad_input_are_refused(node: Node, alice: Member) -> None:
    with pytest.raises(NotFound):
        await node.services.messages.post_text(alice, "ff" * 32, "hello?")
    channel = await node.services.channels.create(alice, "strict", "public")
    for bad in ("", "   ", "x" * (envelope.MAX_TEXT_CHARS + 1), None):
        with pytest.raises((InvalidInput, InvalidEnvelope)):
            await node.services.messages.post_text(alice, channel.id, bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        await node.services.messages.history(alice, channel.id, None, 0)
    with pytest.raises(NotFound):
        await node.services.messages.history(alice, channel.id, "bafkreinotacid", 10)
    assert await _history(node, alice, channel.id) == []
    assert await node.services.messages._log.pending_count() == 0  # type: ignore[attr-defined]


async def test_members_only(node: Node, alice: Member, bob: Member) -> None:
    channel = await node.services.channels.create(alice, "team", "public")
    await node.services.messages.post_text(alice, channel.id, "hi team")
    with pytest.raises(NotFound):
        await node.services.messages.history(bob, channel.id)
    await node.services.channels.join_public(bob, channel.id)
    assert await _history(node, bob, channel.id) == ["hi team"]


async def test_accounts_unlock_only_with_their_password(node: Node, alice: Member) -> None:
    again = await node.services.accounts.unlock("alice", "correct horse")
    assert again.identity.public_key == alice.identity.public_key
    for name, password in (("alice", "wrong horse"), ("nobody", "correct horse")):
        with pytest.raises(Unauthorized, match="unknown account or wrong password"):
            await node.services.accounts.unlock(name, password)
    with pytest.raises(InvalidInput):
        await node.services.accounts.register("eve", "short")
    with pytest.raises(InvalidInput):
        await node.services.accounts.register("<eve>", "long enough password")


async def test_reindex_rebuilds_a_lost_index_from_the_heads_on_ipfs(
    node: Node, alice: Member
) -> None:
    channel = await node.services.channels.create(alice, "archive", "public")
    for i in range(120):
        await node.services.messages.post_text(alice, channel.id, f"entry {i}")
    before = await _history(node, alice, channel.id)
    await node.services.outbox.drained()
    # Lose the message index but keep the heads, as a damaged database might.
    with sqlite3.connect(node.settings.data_dir / "chatbox.db") as connection:
        connection.execute("DELETE FROM entries")
        connection.execute("DELETE FROM links")
    assert await _history(node, alice, channel.id) == []

    reports = await node.services.reindexer.reindex_all()
    assert [(report.name, report.entries) for report in reports] == [("archive", 120)]
    assert await _history(node, alice, channel.id) == before
    after = await node.services.messages.post_text(alice, channel.id, "still appending")
    assert after.clock == 121
