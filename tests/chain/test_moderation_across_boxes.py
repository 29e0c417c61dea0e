"""Moderation between two boxes on their own real Kubo daemons and one real chain: the
registry's creator names the founder, a moderator's delete and ban take effect on both
boxes, and an act from a key that does not moderate is refused and counted."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from chatbox.adapters.ipfs import IpfsClient
from chatbox.daemon import DATABASE_FILE, Node
from chatbox.devstack import AnvilNode, IpfsDaemon
from chatbox.domain import envelope
from chatbox.domain.channels import Channel
from chatbox.errors import Forbidden, NotFound
from chatbox.services.accounts import Member
from chatbox.services.messages import MessageService
from tests.chain.conftest import chain_settings, start_chain_node
from tests.conftest import eventually
from tests.sync.conftest import FAST_SYNC, daemons, history, peer_with

__all__ = ["daemons"]  # the fixture, used by name below


@pytest.fixture
async def two_boxes(
    tmp_path: Path, daemons: list[IpfsDaemon], anvil: AnvilNode, registry: str
) -> AsyncIterator[tuple[Node, Node]]:
    started: list[Node] = []
    for name, daemon in (("box-a", daemons[0]), ("box-b", daemons[1])):
        settings = replace(chain_settings(tmp_path / name, daemon, anvil, registry), box_name=name)
        started.append(await start_chain_node(settings, anvil, FAST_SYNC))
    yield started[0], started[1]
    for node in started:
        await node.stop()


async def _registered(node: Node, channel: Channel) -> bool:
    await node.services.directory.refresh()
    return node.services.directory.creator(channel.id) is not None


async def _shows(node: Node, reader: Member, channel_id: str, cid: str) -> bool:
    return cid in {m.cid for m in await history(node, reader, channel_id) if not m.deleted}


async def _gone(node: Node, reader: Member, cid: str) -> bool:
    """Held, and shown as deleted: without its words."""
    try:
        shown = await node.services.messages.find(reader, cid)
    except NotFound:
        return False  # not arrived yet
    return shown.deleted and shown.text is None


async def test_a_founder_appoints_a_moderator_on_another_box_who_deletes_and_bans_there(
    two_boxes: tuple[Node, Node], daemons: list[IpfsDaemon]
) -> None:
    a, b = two_boxes
    accounts_a, accounts_b = a.services.accounts, b.services.accounts
    alice = await accounts_a.register("alice", "correct horse", is_admin=True)
    mallory = await accounts_a.register("mallory", "correct horse")
    bob = await accounts_b.register("bob", "correct horse", is_admin=True)
    carol = await accounts_b.register("carol", "correct horse")

    # Alice makes the channel on A; A registers it on chain and names her its founder.
    channel = await a.services.channels.create(alice, "school", "public")
    await eventually(lambda: _registered(a, channel), what="the registration on chain")
    await eventually(lambda: _registered(b, channel), what="B reading the registry")
    for member in (bob, carol):
        await b.services.channels.join_public(member, channel.id)
    await a.services.channels.join_public(mallory, channel.id)
    await peer_with(b, daemons[0])
    hello = await b.services.messages.post_text(carol, channel.id, "hello from carol")
    await eventually(lambda: _shows(a, alice, channel.id, hello.cid), what="carol's post on A")

    async def founded_on(node: Node, reader: Member) -> bool:
        view = await node.services.moderation.view(reader, channel.id)
        return view.available and view.founders == [alice.identity.public_key]

    await eventually(lambda: founded_on(a, alice), what="alice founding the channel on A")
    await eventually(lambda: founded_on(b, carol), what="alice's founding counting on B")

    # Nobody but a moderator may act: the service says so, and a box that signs the act
    # anyway (A, for mallory, below its service) has it refused on B and counted.
    welcome = await a.services.messages.post_text(alice, channel.id, "welcome to the school")
    await eventually(lambda: _shows(b, carol, channel.id, welcome.cid), what="alice's post on B")
    with pytest.raises(Forbidden):
        await a.services.moderation.act(mallory, channel.id, "ban", carol.identity.public_key)
    with pytest.raises(Forbidden):
        await b.services.moderation.delete(carol, welcome.cid)
    forged = await _sign_anyway(
        a.services.messages, mallory, channel, {"act": "ban", "key": carol.identity.public_key}
    )
    a_peer = await _peer_id(daemons[0])

    async def counted_against_a() -> bool:
        rejected = (await b.services.status.status())["sync"]["rejected_by_peer"]
        return bool(rejected.get(a_peer, 0) >= 1)

    await eventually(counted_against_a, what="B refusing mallory's ban and counting it")
    # Refused: not applied, and counted; its envelope stays in the log, counting for
    # nothing, so the log keeps no hole.
    assert _held(b, forged) and forged in (await b.services.moderation.state(channel)).ignored
    assert not (await b.services.moderation.state(channel)).is_banned(carol.identity.public_key)
    assert (await b.services.moderation.view(carol, channel.id)).banned == []

    # Alice appoints bob, on B; bob deletes carol's post there; it leaves both boxes.
    await a.services.moderation.act(alice, channel.id, "appoint", bob.identity.public_key)

    async def bob_moderates() -> bool:
        return (await b.services.moderation.view(bob, channel.id)).you_moderate

    await eventually(bob_moderates, what="bob's appointment reaching B")
    await b.services.moderation.delete(bob, hello.cid)
    for node, reader in ((a, alice), (b, bob)):
        await eventually(
            lambda node=node, reader=reader: _gone(node, reader, hello.cid),
            what=f"the moderator's delete on {node.settings.box_name}",
        )

    # Bob bans carol: B refuses her next post, and a post her key signs without having
    # seen the ban (as a box that ignores it would) counts for nothing on either box.
    before_ban = await b.services.messages.post_text(carol, channel.id, "still here")
    await eventually(lambda: _shows(a, alice, channel.id, before_ban.cid), what="her last post")
    heads = _heads(b, channel)
    await b.services.moderation.act(bob, channel.id, "ban", carol.identity.public_key)
    with pytest.raises(Forbidden):
        await b.services.messages.post_text(carol, channel.id, "let me back in")
    unseen = envelope.create(
        carol.identity,
        channel.id,
        max(clock for _, clock in heads) + 1,
        [cid for cid, _ in heads],
        before_ban.ts + 1,
        {"text": "written as if no ban had come"},
    )
    await b.services.messages.accept_many(
        channel, [MessageService.understand(channel, unseen, None)]
    )
    for node, reader in ((a, alice), (b, bob)):
        await eventually(
            lambda node=node, reader=reader: _gone(node, reader, unseen.cid),
            what=f"the banned key's post dropped on {node.settings.box_name}",
        )
        banned = await node.services.moderation.view(reader, channel.id)
        assert banned.banned == [carol.identity.public_key]
        # What the moderator saw before banning stays.
        assert (await node.services.messages.find(reader, before_ban.cid)).text == "still here"


def _held(node: Node, cid: str) -> bool:
    with sqlite3.connect(node.settings.data_dir / DATABASE_FILE) as db:
        return db.execute("SELECT 1 FROM entries WHERE cid = ?", (cid,)).fetchone() is not None


def _heads(node: Node, channel: Channel) -> list[tuple[str, int]]:
    with sqlite3.connect(node.settings.data_dir / DATABASE_FILE) as db:
        rows = db.execute("SELECT cid, clock FROM heads WHERE channel_id = ?", (channel.id,))
        return [(cid, clock) for cid, clock in rows]


async def _sign_anyway(
    messages: MessageService, member: Member, channel: Channel, act: dict[str, str]
) -> str:
    """Sign a moderation act into the log below the moderation service's check."""
    indexed = await messages.append_entry(member, channel, {"mod": act})
    return indexed.entry.cid


async def _peer_id(daemon: IpfsDaemon) -> str:
    async with aiohttp.ClientSession() as session:
        return (await IpfsClient(session, daemon.api_url).identity()).peer_id


async def test_a_ban_that_arrives_before_what_it_saw_waits_for_it_before_dropping_anything(
    chain_node: Node,
) -> None:
    """Heads arrive before what they name: a ban held without the entries between it and
    the banned key's earlier post cannot tell that post was seen, so nothing is dropped
    until they come; then the post the ban saw stays, and the one beside it goes."""
    services = chain_node.services
    channel, owner, (carol,) = await _founded_club(chain_node, "club", "carol")
    (head, clock), *_ = _heads(chain_node, channel)

    def signed(member: Member, at: int, prev: list[str], body: dict[str, object]) -> Any:
        return envelope.create(member.identity, channel.id, at, prev, 1_796_000_000_000 + at, body)

    seen = signed(carol, clock + 1, [head], {"text": "seen by the moderator"})
    between = signed(owner, clock + 2, [seen.cid], {"text": "noted"})
    ban = signed(
        owner, clock + 3, [between.cid], {"mod": {"act": "ban", "key": carol.identity.public_key}}
    )
    beside = signed(carol, clock + 2, [seen.cid], {"text": "written beside the ban"})

    async def arrive(*entries: Any) -> None:
        opened = [MessageService.understand(channel, entry, None) for entry in entries]
        await services.messages.accept_many(channel, opened)

    await arrive(seen, ban, beside)  # without the entry between them
    for cid in (seen.cid, beside.cid):
        assert not (await services.messages.find(owner, cid)).deleted
    assert (await services.moderation.view(owner, channel.id)).banned == [carol.identity.public_key]
    await arrive(between)
    assert not (await services.messages.find(owner, seen.cid)).deleted
    assert (await services.messages.find(owner, beside.cid)).deleted


async def test_a_channel_closed_to_all_but_moderators_drops_others_posts_and_keeps_reactions(
    chain_node: Node,
) -> None:
    services = chain_node.services
    channel, owner, (pupil,) = await _founded_club(chain_node, "news", "pupil")
    early = await services.messages.post_text(pupil, channel.id, "before it closed")
    (head, clock), *_ = _heads(chain_node, channel)
    settings = await services.moderation.set_settings(
        owner, channel.id, "School news", "", [], "moderators"
    )
    assert settings.posting == "moderators"
    assert not await services.moderation.may_post(pupil, channel.id)
    with pytest.raises(Forbidden):
        await services.messages.post_text(pupil, channel.id, "can I post?")
    notice = await services.messages.post_text(owner, channel.id, "No school on Monday")
    await services.messages.react(pupil, notice.cid, "👍", True)  # reactions stay open
    # A post the pupil's key signed beside the closing, as a box that ignores it would.
    beside = envelope.create(
        pupil.identity, channel.id, clock + 1, [head], early.ts + 1, {"text": "me too"}
    )
    opened = [MessageService.understand(channel, beside, None)]
    await services.messages.accept_many(channel, opened)
    assert (await services.messages.find(owner, beside.cid)).deleted
    assert not (await services.messages.find(owner, early.cid)).deleted  # seen when closing
    shown = await services.messages.find(owner, notice.cid)
    assert shown.text == "No school on Monday" and shown.reactions == {
        "👍": [pupil.identity.public_key]
    }
    await services.moderation.set_settings(owner, channel.id, "School news", "", [], "everyone")
    again = await services.messages.post_text(pupil, channel.id, "thanks")
    assert not (await services.messages.find(owner, again.cid)).deleted


async def test_a_moderator_s_delete_that_arrives_before_its_message_takes_effect_when_it_comes(
    chain_node: Node,
) -> None:
    services = chain_node.services
    channel, owner, (pupil,) = await _founded_club(chain_node, "club", "pupil")
    (head, clock), *_ = _heads(chain_node, channel)
    rude = envelope.create(pupil.identity, channel.id, clock + 1, [head], 1, {"text": "rude"})
    removal = envelope.create(
        owner.identity, channel.id, clock + 2, [rude.cid], 2, {"delete": rude.cid}
    )
    for entry in (removal, rude):  # heads first, as sync brings them
        await services.messages.accept_many(
            channel, [MessageService.understand(channel, entry, None)]
        )
    shown = await services.messages.find(owner, rude.cid)
    assert shown.deleted and shown.text is None


async def test_a_dismissed_moderator_cannot_act_on_by_writing_on_old_parents(
    chain_node: Node,
) -> None:
    services = chain_node.services
    channel, owner, (anna, pupil) = await _founded_club(chain_node, "club", "anna", "pupil")
    await services.moderation.act(owner, channel.id, "appoint", anna.identity.public_key)
    said = await services.messages.post_text(pupil, channel.id, "a fair point")
    (head, clock), *_ = _heads(chain_node, channel)  # what Anna saw while she moderated
    await services.moderation.act(owner, channel.id, "dismiss", anna.identity.public_key)
    with pytest.raises(Forbidden):
        await services.moderation.delete(anna, said.cid)
    # Her box signs the delete anyway, on the parents she saw before and with a clock that
    # sorts it before her dismissal (receivers cannot hold a clock to its parents).
    late = envelope.create(
        anna.identity, channel.id, clock, [head], said.ts + 1, {"delete": said.cid}
    )
    dismissal = max(_heads(chain_node, channel), key=lambda head: head[1])
    assert late.sort_key < (dismissal[1], dismissal[0])
    await services.messages.accept_many(channel, [MessageService.understand(channel, late, None)])
    assert not (await services.messages.find(owner, said.cid)).deleted
    folded = await services.moderation.state(channel)
    assert anna.identity.public_key not in folded.moderators
    assert not folded.may_act(anna.identity.public_key, late.sort_key, late.cid)


async def _founded_club(
    node: Node, name: str, *members: str
) -> tuple[Channel, Member, list[Member]]:
    """A public channel its owner made on ``node``, registered and founded, that
    ``members`` (new accounts, password "<name> password") have joined."""
    services = node.services
    owner = await services.accounts.register("owner", "owner password", is_admin=True)
    joined = [await services.accounts.register(m, f"{m} password") for m in members]
    channel = await services.channels.create(owner, name, "public")
    for member in joined:
        await services.channels.join_public(member, channel.id)

    async def founded() -> bool:
        await services.directory.refresh()
        return bool((await services.moderation.view(owner, channel.id)).founders)

    await eventually(founded, what=f"{name} founded")
    return channel, owner, joined
