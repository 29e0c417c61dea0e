"""Grants arriving for a box's people, on a real node (Kubo, SQLite): kept once, opened by
their recipient's key only, bounded per person, and a successor's taken only when due."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from chatbox.daemon import Node
from chatbox.domain import direct
from chatbox.domain.identity import Identity
from chatbox.domain.sealing import new_key
from chatbox.errors import Forbidden, InvalidInput
from chatbox.services.direct import MAX_WAITING


async def test_a_grant_is_kept_once_opened_once_and_not_kept_again(node: Node) -> None:
    services = node.services
    grace = await services.accounts.register("grace", "grace password")
    ada = Identity.generate()  # a person on another box
    card = direct.make_card(grace.identity)
    grant = direct.make_grant(ada, card, new_key(), [ada.public_key, grace.identity.public_key])
    assert await services.conversations.arrived((grant,)) == 1
    assert await services.conversations.arrived((grant,)) == 0, "announced again: kept once"
    opened = await services.conversations.accept_waiting(grace)
    assert [c.channel.id for c in opened] == [grant.channel]
    assert opened[0].channel.founder == ada.public_key
    # Announced for a week after: neither kept nor opened again.
    assert await services.conversations.arrived((grant,)) == 0
    assert await services.conversations.accept_waiting(grace) == []


async def test_a_box_floods_nobody_with_grants(node: Node) -> None:
    services = node.services
    grace = await services.accounts.register("grace", "grace password")
    card = direct.make_card(grace.identity)
    flood = []
    for _ in range(MAX_WAITING + 10):
        stranger = Identity.generate()
        members = [stranger.public_key, grace.identity.public_key]
        flood.append(direct.make_grant(stranger, card, new_key(), members))
    assert await services.conversations.arrived(tuple(flood)) == MAX_WAITING


async def test_a_grant_for_someone_not_here_and_a_card_of_one_of_ours_are_not_taken(
    node: Node,
) -> None:
    services = node.services
    grace = await services.accounts.register("grace", "grace password")
    await services.sessions.open(grace)  # her card, made here
    ada, stranger = Identity.generate(), Identity.generate()
    members = [ada.public_key, stranger.public_key]
    elsewhere = direct.make_grant(ada, direct.make_card(stranger), new_key(), members)
    assert await services.conversations.arrived((elsewhere,)) == 0
    # A card for Grace from outside, even one her key signed (an old one replayed), leaves
    # the card made here alone: grants go on being sealed to the key she has.
    before = await services.conversations.local_cards()
    older = Identity(grace.identity.signing, X25519PrivateKey.generate())
    await services.conversations.learn_cards([direct.make_card(older)])
    assert await services.conversations.local_cards() == before
    assert before[0].seal == grace.identity.sealing_public_key


async def test_nobody_in_a_conversation_moderates_the_others(node: Node) -> None:
    services = node.services
    ada = await services.accounts.register("ada", "ada's password")
    grace = await services.accounts.register("grace", "grace password")
    conversation = await services.conversations.start(ada, [grace.identity.public_key])
    said = await services.messages.post_text(grace, conversation.channel.id, "only mine")
    view = await services.moderation.view(ada, conversation.channel.id)
    assert view.moderators == [] and not view.you_moderate and not view.available
    with pytest.raises(Forbidden):  # the starter is no moderator of the other's words
        await services.moderation.delete(ada, said.cid)
    with pytest.raises(InvalidInput):
        await services.moderation.remove(ada, conversation.channel.id, grace.identity.public_key)
