"""Removing a member from a private channel across boxes on their own real Kubo daemons:
the channel goes on under a new key that reaches only the members left, on every box."""

from __future__ import annotations

import sqlite3

import pytest

from chatbox.daemon import DATABASE_FILE, Node
from chatbox.devstack import IpfsDaemon
from chatbox.errors import Conflict, Forbidden, NotFound
from chatbox.services.accounts import Member
from tests.conftest import eventually
from tests.sync.conftest import Boxes, history, logged_in, peer_with

AFTER = "the new timetable is on the staff board"


async def _members(node: Node, reader: Member, channel_id: str) -> set[str]:
    return set((await node.services.moderation.view(reader, channel_id)).members)


async def _reads(node: Node, reader: Member, channel_id: str, text: str) -> bool:
    try:
        return text in [m.text for m in await history(node, reader, channel_id)]
    except NotFound:
        return False


async def test_a_removed_member_s_box_never_receives_the_new_key(
    boxes: Boxes, daemons: list[IpfsDaemon]
) -> None:
    a = await boxes.start("box-a", daemons[0])
    b = await boxes.start("box-b", daemons[1])
    c = await boxes.start("box-c", daemons[2])
    alice, carol = await logged_in(a, "alice"), await logged_in(a, "carol")
    bob, dave = await logged_in(b, "bob"), await logged_in(c, "dave")
    await peer_with(b, daemons[0])
    await peer_with(c, daemons[0])
    staff = await a.services.channels.create(alice, "Staff Room", "private")
    assert staff.founder == alice.identity.public_key
    token = await a.services.channels.invite(alice, staff.id)
    await a.services.channels.accept_invite(carol, token)
    await b.services.channels.accept_invite(bob, token)
    await c.services.channels.accept_invite(dave, token)
    everyone = {m.identity.public_key for m in (alice, carol, bob, dave)}

    async def everyone_joined() -> bool:
        return everyone <= await _members(a, alice, staff.id)

    await eventually(everyone_joined, what="every join on A")
    await a.services.messages.post_text(alice, staff.id, "before: the old timetable")
    await eventually(
        lambda: _reads(b, bob, staff.id, "before: the old timetable"), what="the post on B"
    )

    # Only a moderator removes, and not a moderator.
    with pytest.raises(Forbidden):
        await c.services.moderation.remove(dave, staff.id, bob.identity.public_key)
    with pytest.raises(Conflict):
        await a.services.moderation.remove(alice, staff.id, alice.identity.public_key)

    successor = await a.services.moderation.remove(alice, staff.id, bob.identity.public_key)
    assert successor.follows == staff.id and successor.founder == staff.founder
    assert successor.key != staff.key
    # On A, the members left belong to the successor at once.
    assert {ch.id for ch in await a.services.channels.joined(carol)} >= {successor.id}

    async def dave_has_it() -> bool:
        await c.services.conversations.accept_waiting(dave)  # what his open page does
        return successor.id in {ch.id for ch in await c.services.channels.joined(dave)}

    await eventually(dave_has_it, what="the new key reaching Dave on C")
    await a.services.messages.post_text(alice, successor.id, AFTER)
    await eventually(lambda: _reads(c, dave, successor.id, AFTER), what="the new post on C")
    reply = "noted, thanks"
    await c.services.messages.post_text(dave, successor.id, reply)
    await eventually(lambda: _reads(a, carol, successor.id, reply), what="Dave's answer on A")

    # Bob's box learns of the removal and holds nothing of what came after.
    async def removed_on_b() -> bool:
        return (await b.services.moderation.view(bob, staff.id)).removed

    await eventually(removed_on_b, what="the removal on B")
    with pytest.raises(Forbidden, match="removed you"):
        await b.services.messages.post_text(bob, staff.id, "still here?")
    assert successor.id not in {ch.id for ch in await b.services.channels.all()}
    with sqlite3.connect(b.settings.data_dir / DATABASE_FILE) as database:
        grants = database.execute("SELECT count(*) FROM grants WHERE direction = 'in'").fetchone()
    assert grants == (0,), "a grant of the new key reached the removed member's box"
    # The old channel is closed on every box, and what was written before stays readable.
    with pytest.raises(Forbidden, match="goes on as a new one"):
        await a.services.messages.post_text(carol, staff.id, "here?")
    assert await _reads(b, bob, staff.id, "before: the old timetable")
    # The successor starts from the old channel: its founder moderates, Bob is no member.
    view = await c.services.moderation.view(dave, successor.id)
    assert alice.identity.public_key in view.moderators
    assert bob.identity.public_key not in view.members
    assert dave.identity.public_key in view.members
