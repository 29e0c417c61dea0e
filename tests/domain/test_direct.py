"""Cards, grants and people announcements: what is accepted, and every forgery refused."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from chatbox.domain import canonical, direct
from chatbox.domain.identity import Identity
from chatbox.domain.sealing import new_key
from chatbox.errors import Forbidden, InvalidEnvelope, InvalidInput

PEER = "12D3KooWTheSendingPeer"


def _grant_fields(grant: direct.Grant) -> dict[str, Any]:
    return dict(canonical.loads(grant.raw))


def _resigned(fields: dict[str, Any], signer: Identity) -> dict[str, Any]:
    unsigned = {name: value for name, value in fields.items() if name != "sig"}
    signature = signer.sign(b"chatbox-grant-v1\n" + canonical.dumps(unsigned)).hex()
    return {**unsigned, "sig": signature}


def test_a_grant_opens_for_its_recipient_only() -> None:
    ada, grace, eve = Identity.generate(), Identity.generate(), Identity.generate()
    key = new_key()
    members = [ada.public_key, grace.public_key]
    grant = direct.make_grant(ada, direct.make_card(grace), key, members)
    opened = direct.open_grant(direct.check_grant(_grant_fields(grant)), grace)
    assert opened.key == key and opened.members == tuple(sorted(members))
    with pytest.raises(Forbidden):
        direct.open_grant(grant, eve)
    # Even addressed to Eve, the seal stays shut: it was made for Grace's sealing key.
    stolen = direct.check_grant(_resigned({**_grant_fields(grant), "to": eve.public_key}, ada))
    with pytest.raises(Forbidden):
        direct.open_grant(stolen, eve)


def test_a_card_with_another_sealing_key_is_refused() -> None:
    grace, box = Identity.generate(), Identity.generate()
    card = direct.make_card(grace).as_json()
    assert direct.check_card(card).seal == grace.sealing_public_key
    with pytest.raises(InvalidEnvelope, match="signature"):
        direct.check_card({**card, "seal": box.sealing_public_key})
    with pytest.raises(InvalidEnvelope):
        direct.check_card({**card, "extra": 1})
    with pytest.raises(InvalidEnvelope):
        direct.check_card({**card, "v": True})


@pytest.mark.parametrize(
    "change",
    [
        {"from": "ab" * 32},  # someone else's name on Ada's signature
        {"ch": "cd" * 32},  # another conversation
        {"sealed": base64.b64encode(b"x" * 80).decode()},
        {"sealed": "not base64!"},
        {"eph": "zz" * 32},
        {"v": 2},
    ],
)
def test_a_changed_grant_is_refused(change: dict[str, Any]) -> None:
    ada, grace = Identity.generate(), Identity.generate()
    grant = direct.make_grant(
        ada, direct.make_card(grace), new_key(), [ada.public_key, grace.public_key]
    )
    with pytest.raises(InvalidEnvelope):
        direct.check_grant({**_grant_fields(grant), **change})


def test_a_grant_whose_key_does_not_give_its_id_is_refused_when_opened() -> None:
    ada, grace = Identity.generate(), Identity.generate()
    grant = direct.make_grant(
        ada, direct.make_card(grace), new_key(), [ada.public_key, grace.public_key]
    )
    other = direct.make_grant(
        ada, direct.make_card(grace), new_key(), [ada.public_key, grace.public_key]
    )
    # The seal of one conversation under the id of another: the associated data differs.
    moved = _resigned({**_grant_fields(other), "ch": grant.channel}, ada)
    with pytest.raises(Forbidden):
        direct.open_grant(direct.check_grant(moved), grace)


def test_members_are_two_to_eight_with_sender_and_recipient_among_them() -> None:
    ada, grace = Identity.generate(), Identity.generate()
    strangers = [Identity.generate().public_key for _ in range(8)]
    with pytest.raises(InvalidEnvelope):
        direct.make_grant(ada, direct.make_card(grace), new_key(), [ada.public_key, *strangers])
    with pytest.raises(InvalidEnvelope):
        direct.make_grant(ada, direct.make_card(grace), new_key(), [ada.public_key, *strangers[:7]])
    with pytest.raises(InvalidInput):
        direct.check_members([], ada.public_key)
    with pytest.raises(InvalidInput):
        direct.check_members(["not a key"], ada.public_key)
    assert len(direct.check_members(strangers[:7], ada.public_key)) == 8


def test_a_people_announcement_is_the_box_s_and_its_sender_s() -> None:
    box, ada, grace = Identity.generate(), Identity.generate(), Identity.generate()
    grant = direct.make_grant(
        ada, direct.make_card(grace), new_key(), [ada.public_key, grace.public_key]
    )
    announcement = direct.PeopleAnnouncement(
        box.public_key,
        "makerspace",
        PEER,
        1,
        (direct.Person(direct.make_card(ada), "ada", "Ada"),),
        (grant,),
    )
    data = direct.encode_people(announcement, box)
    assert direct.decode_people(data, PEER) == announcement
    with pytest.raises(InvalidEnvelope, match="peer"):
        direct.decode_people(data, "12D3KooWAnotherPeer")
    fields = json.loads(data)
    fields["people"][0]["name"] = "Mallory"  # a name changed after the box signed
    with pytest.raises(InvalidEnvelope, match="signature"):
        direct.decode_people(canonical.dumps(fields), PEER)
    for bad in (b"\xff\xfe", b"{", b"[]", b'{"v": 1}'):
        with pytest.raises(InvalidEnvelope):
            direct.decode_people(bad, PEER)


def test_many_people_and_grants_split_into_announcements_within_the_limits() -> None:
    ada = Identity.generate()
    person = direct.Person(direct.make_card(ada), "ada", "Ada")
    rounds = direct.split_people([person] * 300, [])
    assert [len(p) for p, _ in rounds] == [256, 44]
    assert direct.split_people([], []) == [([], [])]
