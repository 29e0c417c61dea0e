"""Direct conversations between boxes on their own real Kubo daemons: the key travels
sealed to its recipient's card, and a third box on the same topics reads nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3

import aiohttp
import pytest

from chatbox.adapters.ipfs import IpfsClient
from chatbox.daemon import DATABASE_FILE, Node, web_services
from chatbox.devstack import IpfsDaemon
from chatbox.domain import direct
from chatbox.domain.channels import pubsub_topic
from chatbox.errors import Forbidden, InvalidEnvelope, NotFound
from chatbox.services.accounts import Member
from chatbox.web.context import author_names, message_view
from tests.conftest import eventually
from tests.sync.conftest import Boxes, history, logged_in, peer_with

SECRET = "the kestrel nests behind the gym"


async def _knows_card(node: Node, key: str) -> bool:
    return key in await node.services.conversations.carded()


async def _texts(node: Node, reader: Member, channel_id: str) -> list[str]:
    return [m.text or "" for m in await history(node, reader, channel_id)]


async def _listen(daemon: IpfsDaemon, topic: str, heard: list[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        async for _sender, data in IpfsClient(session, daemon.api_url).subscribe(topic):
            heard.append(data)


async def test_a_direct_message_between_boxes_is_read_by_its_members_only(
    boxes: Boxes, daemons: list[IpfsDaemon]
) -> None:
    a = await boxes.start("box-a", daemons[0])
    b = await boxes.start("box-b", daemons[1])
    c = await boxes.start("box-c", daemons[2])
    alice, bob = await logged_in(a, "alice"), await logged_in(b, "bob")
    carol = await logged_in(c, "carol")
    await peer_with(b, daemons[0])
    await peer_with(c, daemons[0])
    await eventually(lambda: _knows_card(a, bob.identity.public_key), what="Bob's card on A")

    # A third party listens on the people topic the grant crosses.
    overheard: list[bytes] = []
    eavesdropper = asyncio.create_task(_listen(daemons[2], direct.PEOPLE_TOPIC, overheard))
    await asyncio.sleep(1)

    started = await a.services.conversations.start(alice, [bob.identity.public_key])
    assert started.members == tuple(sorted([alice.identity.public_key, bob.identity.public_key]))
    again = await a.services.conversations.start(alice, [bob.identity.public_key])
    assert again.channel.id == started.channel.id, "the same two people get one conversation"

    async def bob_has_it() -> bool:
        await b.services.conversations.accept_waiting(bob)  # what his open page does
        return started.channel.id in {c.channel.id for c in await b.services.conversations.of(bob)}

    await eventually(bob_has_it, what="the conversation reaching Bob on B")
    conversation = (await b.services.conversations.of(bob))[0]
    assert conversation.channel.key == started.channel.key
    assert conversation.members == started.members

    await a.services.messages.post_text(alice, started.channel.id, SECRET)
    await eventually(
        lambda: _has_text(b, bob, started.channel.id, SECRET), what="Alice's message on B"
    )
    await b.services.messages.post_text(bob, started.channel.id, "I will bring binoculars")
    await eventually(
        lambda: _has_text(a, alice, started.channel.id, "I will bring binoculars"),
        what="Bob's answer on A",
    )

    # Box C heard the people topic, and follows the conversation's topic too: it reads nothing.
    topic_of_conversation = pubsub_topic(started.channel)
    sealed_traffic: list[bytes] = []
    listener = asyncio.create_task(_listen(daemons[2], topic_of_conversation, sealed_traffic))
    await asyncio.sleep(1)
    await a.services.messages.post_text(alice, started.channel.id, "and a flask of tea")
    await eventually(lambda: _heard_something(sealed_traffic), what="C hearing the topic")
    for task in (eavesdropper, listener):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    grants = [
        grant
        for data in overheard
        for grant in _grants_in(data)
        if grant.channel == started.channel.id
    ]
    assert grants, "the grant crossed the people topic"
    for grant in grants:
        with pytest.raises(Forbidden):
            direct.open_grant(grant, carol.identity)
    for data in sealed_traffic:
        assert b"flask" not in data and b"heads" not in data, "C read a private announcement"
    assert started.channel.id not in {ch.id for ch in await c.services.channels.all()}
    with sqlite3.connect(c.settings.data_dir / DATABASE_FILE) as database:
        kept = database.execute("SELECT count(*) FROM grants WHERE direction = 'in'").fetchone()
    assert kept == (0,), "C keeps no grant that is not for its people"


async def test_starting_a_conversation_with_someone_unknown_is_refused(
    boxes: Boxes, daemons: list[IpfsDaemon]
) -> None:
    a = await boxes.start("box-a", daemons[0])
    alice = await logged_in(a, "alice")
    with pytest.raises(NotFound):
        await a.services.conversations.start(alice, ["ab" * 32])
    assert await a.services.conversations.of(alice) == []


async def _has_text(node: Node, reader: Member, channel_id: str, text: str) -> bool:
    return text in await _texts(node, reader, channel_id)


async def _heard_something(heard: list[bytes]) -> bool:
    return bool(heard)


def _grants_in(data: bytes) -> list[direct.Grant]:
    """The grants of an overheard announcement (its sender taken at its word)."""
    try:
        return list(direct.decode_people(data, str(json.loads(data)["peer"])).grants)
    except (InvalidEnvelope, ValueError, KeyError):
        return []


async def test_a_mention_names_a_person_on_the_author_s_box_or_the_box_named(
    boxes: Boxes, daemons: list[IpfsDaemon]
) -> None:
    a = await boxes.start("box-a", daemons[0])
    b = await boxes.start("box-b", daemons[1])
    alice, carol = await logged_in(a, "alice"), await logged_in(a, "carol")
    bob, also_carol = await logged_in(b, "bob"), await logged_in(b, "Carol")
    club = await a.services.channels.create(alice, "club", "public")
    await b.services.channels.create(bob, "club", "public")
    await peer_with(b, daemons[0])
    await eventually(lambda: _knows_card(a, bob.identity.public_key), what="B's people on A")
    said = await b.services.messages.post_text(bob, club.id, "@alice@box-a and @carol: see you")
    await eventually(lambda: _has_text(a, alice, club.id, said.text or ""), what="B's post on A")

    shown = message_view(
        await a.services.messages.find(alice, said.cid),
        await author_names(web_services(a.services)),
    )
    # @carol, written on B, is B's Carol, not A's carol; @alice@box-a is A's alice.
    assert shown["mentioned"] == sorted([alice.identity.public_key, also_carol.identity.public_key])
    assert carol.identity.public_key not in shown["mentioned"]
    assert f'data-key="{alice.identity.public_key}"' in shown["html"]
    assert shown["author_handle"] == "bob@box-b"
