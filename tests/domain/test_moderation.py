"""The moderation fold: who founds, who moderates at each point of the log, what counts,
and which of a banned key's entries count for nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chatbox.domain.cid import raw_cid
from chatbox.domain.direct import make_card
from chatbox.domain.identity import Identity
from chatbox.domain.moderation import (
    Act,
    Ban,
    ChannelSettings,
    Start,
    barred,
    check_act,
    fold,
    founder_statement,
)
from chatbox.errors import InvalidEnvelope

FOUNDER, ANNA, BEN, CARA = ("f" * 64, "a" * 64, "b" * 64, "c" * 64)
CID = raw_cid(b"a message")
OPEN = {"act": "settings", "topic": "", "description": "", "pinned": [], "posting": "everyone"}


def act(clock: int, author: str, what: str, key: str | None = None) -> Act:
    proof = "00" * 65 if what == "found" else None
    return Act(f"bafy{clock:04d}{what}", clock, author, what, key, proof)


def founded_by(*keys: str) -> Callable[[Act], bool]:
    """A registry check that takes these keys' founding acts as signed by the creator."""
    return lambda a: a.author in keys


def test_only_a_founding_the_registry_creator_signed_makes_a_founder() -> None:
    acts = [act(1, FOUNDER, "found"), act(2, ANNA, "found")]
    folded = fold(acts, founded_by(FOUNDER))
    assert folded.founders == {FOUNDER} and folded.moderators == {FOUNDER}
    assert folded.unauthorized == [acts[1].cid]


def test_nothing_is_founded_while_the_registry_cannot_say() -> None:
    acts = [act(1, FOUNDER, "found"), act(2, FOUNDER, "appoint", ANNA)]
    folded = fold(acts, lambda _: False)
    assert folded.moderators == frozenset() and folded.ignored == [a.cid for a in acts]


def test_an_act_counts_only_from_who_moderates_at_its_point_in_the_log() -> None:
    acts = [
        act(1, FOUNDER, "found"),
        act(2, ANNA, "ban", CARA),  # Anna does not moderate yet
        act(3, FOUNDER, "appoint", ANNA),
        act(4, ANNA, "appoint", BEN),
        act(5, FOUNDER, "dismiss", ANNA),
        act(6, ANNA, "ban", CARA),  # no longer
        act(7, BEN, "ban", CARA),
    ]
    folded = fold(reversed(acts), founded_by(FOUNDER))  # folded in the log's order anyway
    assert folded.moderators == {FOUNDER, BEN}
    assert folded.unauthorized == [acts[1].cid, acts[5].cid]
    assert folded.is_banned(CARA) and [b.cid for b in folded.bans[CARA]] == [acts[6].cid]
    assert not folded.moderates_at(ANNA, acts[2].position)  # the appointment itself
    assert folded.moderates_at(ANNA, acts[3].position)
    assert folded.moderates_at(ANNA, (5, "bafy0005dismiss"))  # just before the dismissal
    assert not folded.moderates_at(ANNA, (5, "bafy0005dismisz"))
    assert folded.moderates_at(FOUNDER, (0, ""))


def test_acts_that_change_nothing_are_ignored_but_not_refused() -> None:
    acts = [
        act(1, FOUNDER, "found"),
        act(2, FOUNDER, "dismiss", FOUNDER),  # a founder stays one
        act(3, FOUNDER, "appoint", ANNA),
        act(4, FOUNDER, "ban", ANNA),  # a moderator cannot be banned
        act(5, FOUNDER, "unban", BEN),  # not banned
        act(6, FOUNDER, "ban", BEN),
        act(7, FOUNDER, "ban", BEN),  # banned already
        act(8, FOUNDER, "appoint", BEN),  # banned
        act(9, FOUNDER, "unban", BEN),
    ]
    folded = fold(acts, founded_by(FOUNDER))
    ignored = {acts[i].cid for i in (1, 3, 4, 6, 7)}
    assert set(folded.ignored) == ignored and folded.unauthorized == []
    assert folded.moderators == {FOUNDER, ANNA} and not folded.is_banned(BEN)
    assert folded.bans[BEN] == [Ban(acts[5].cid, (acts[8].cid,))]


def test_a_banned_key_s_entries_count_unless_the_ban_had_seen_them_or_they_saw_its_lift() -> None:
    # The log: e1 <- ban <- e2 <- unban <- e4, and e3 beside the ban (its author never saw it).
    parents = {"ban": {"e1"}, "e2": {"ban", "e1"}, "unban": {"e2", "ban", "e1"}, "e3": {"e1"}}
    parents["e4"] = {"unban", *parents["unban"]}
    bans = [Ban("ban", ("unban",))]

    def ancestors_of(cid: str) -> set[str]:
        return parents.get(cid, set())

    assert not barred("e1", bans, ancestors_of)  # the moderator saw it when banning
    assert barred("e2", bans, ancestors_of)  # written after the ban
    assert barred("e3", bans, ancestors_of)  # beside it, whatever its clock claims
    assert not barred("e4", bans, ancestors_of)  # written after the ban was lifted
    assert barred("e4", [Ban("ban", ("unban",)), Ban("ban2")], ancestors_of)


@pytest.mark.parametrize(
    "value",
    [
        None,
        {},
        {"act": "found"},
        {"act": "found", "proof": "zz" * 65},
        {"act": "found", "proof": "00" * 64},
        {"act": "found", "proof": "00" * 65, "key": ANNA},
        {"act": "ban"},
        {"act": "ban", "key": "A" * 64},
        {"act": "ban", "key": ANNA, "why": "spam"},
        {"act": "hide", "key": ANNA},
        {"act": 1, "key": ANNA},
        {"act": "settings", "topic": "t", "description": "", "pinned": []},
        {**OPEN, "topic": "t" * 201},
        {**OPEN, "description": 5},
        {**OPEN, "pinned": ["not a cid"]},
        {**OPEN, "pinned": [CID, CID]},
        {**OPEN, "pinned": [CID] * 26},
        {**OPEN, "posting": "admins"},
    ],
)
def test_malformed_acts_are_refused(value: object) -> None:
    with pytest.raises(InvalidEnvelope):
        check_act(value)


def test_the_founder_statement_names_the_channel_and_the_key() -> None:
    assert founder_statement("01" * 32, ANNA) == f"chatbox-founder-v1\n{'01' * 32}\n{ANNA}"


def test_the_last_settings_a_moderator_signed_are_the_channel_s() -> None:
    first = ChannelSettings("Robots", "", (CID,))
    second = ChannelSettings("Robots on Thursdays", "Bring a laptop.", ())
    forged = ChannelSettings("Buy cheap watches", "", ())
    acts = [
        act(1, FOUNDER, "found"),
        act(2, FOUNDER, "settings")._replace(settings=first),
        act(3, ANNA, "settings")._replace(settings=forged),  # Anna does not moderate
        act(4, FOUNDER, "settings")._replace(settings=second),
    ]
    folded = fold(acts, founded_by(FOUNDER))
    assert folded.settings == second and folded.unauthorized == [acts[2].cid]
    assert fold(acts[:3], founded_by(FOUNDER)).settings == first
    assert fold([], founded_by(FOUNDER)).settings == ChannelSettings()
    check_act({**OPEN, "pinned": [CID]})


def test_closing_a_channel_to_all_but_moderators_is_a_ban_lifted_by_opening_it() -> None:
    open_, closed = ChannelSettings(), ChannelSettings(posting="moderators")
    acts = [
        act(1, FOUNDER, "found"),
        act(2, FOUNDER, "settings")._replace(settings=closed),
        act(3, FOUNDER, "settings")._replace(settings=closed),  # closed already
        act(4, FOUNDER, "settings")._replace(settings=open_),
        act(5, FOUNDER, "settings")._replace(settings=closed),
    ]
    folded = fold(acts, founded_by(FOUNDER))
    assert folded.closings == [Ban(acts[1].cid, (acts[3].cid,)), Ban(acts[4].cid)]
    assert folded.settings.posting == "moderators"


def test_what_a_dismissed_moderator_wrote_beside_the_dismissal_counts_for_nothing() -> None:
    # Anna is dismissed at clock 5. She then signs a ban with clock 4 on old parents (so
    # the dismissal never saw it); her ban at clock 3 is one the dismissal had seen.
    acts = [
        act(1, FOUNDER, "found"),
        act(2, FOUNDER, "appoint", ANNA),
        act(3, ANNA, "ban", BEN),
        act(4, ANNA, "ban", CARA),
        act(5, FOUNDER, "dismiss", ANNA),
    ]
    by_order = fold(acts, founded_by(FOUNDER))
    assert by_order.is_banned(CARA) and list(by_order.dismissals) == [ANNA]
    seen = {acts[4].cid: {acts[0].cid, acts[1].cid, acts[2].cid}}
    folded = fold(acts, founded_by(FOUNDER), seen)
    assert folded.is_banned(BEN) and not folded.is_banned(CARA)
    assert acts[3].cid in folded.ignored and acts[3].cid not in folded.unauthorized
    # A delete she signed the same way does not count either; one the dismissal saw does.
    assert not folded.may_act(ANNA, (4, "bafy-delete"), "bafy-delete")
    assert folded.may_act(ANNA, (3, "bafy0003ban"), acts[2].cid)


def _joined(clock: int, person: Identity, card_of: Identity | None = None) -> Act:
    card = make_card(card_of or person).as_json()
    return Act(f"bafy{clock:04d}join", clock, person.public_key, "join", card=card)


def _removed(clock: int, author: str, key: str, to: str = "9" * 64) -> Act:
    return Act(f"bafy{clock:04d}remove", clock, author, "remove", key, to=to)


def test_a_private_channel_starts_from_its_founder_and_members_join_with_their_own_card() -> None:
    founder, anna, mallory = Identity.generate(), Identity.generate(), Identity.generate()
    start = Start.private_channel(founder.public_key)
    acts = [_joined(1, founder), _joined(2, anna), _joined(3, mallory, card_of=anna)]
    folded = fold(acts, lambda _: False, None, start)
    assert folded.moderators == {founder.public_key}
    assert set(folded.members) == {founder.public_key, anna.public_key}
    assert folded.unauthorized == [acts[2].cid], "a join with another's card is refused"


def test_a_removal_bans_the_member_closes_the_channel_and_names_its_successor() -> None:
    founder, anna, ben = Identity.generate(), Identity.generate(), Identity.generate()
    start = Start.private_channel(founder.public_key)
    f, a, b = founder.public_key, anna.public_key, ben.public_key
    acts = [
        _joined(1, founder),
        _joined(2, anna),
        _joined(3, ben),
        _removed(4, a, b, "1" * 64),  # Anna does not moderate: refused
        _removed(5, f, b, "2" * 64),
        _removed(6, f, a, "3" * 64),  # the channel went on already: the first one holds
    ]
    folded = fold(acts, lambda _: False, None, start)
    assert folded.successor == "2" * 64
    assert folded.removed == {b} and folded.is_banned(b)
    assert acts[3].cid in folded.unauthorized and acts[5].cid in folded.ignored
    assert not folded.may_post(f) and not folded.may_post(a), "the old channel is closed"

    # Its successor starts from it: the same moderators, the members left, the bans.
    after = fold([], lambda _: False, None, Start.private_channel(f, folded))
    assert after.moderators == {f}
    assert set(after.members) == {f, a}
    assert after.is_banned(b) and after.removed == {b}
    assert after.may_post(a) and after.successor is None


def test_a_removal_counts_only_in_a_private_channel() -> None:
    folded = fold([act(1, FOUNDER, "found"), _removed(2, FOUNDER, ANNA)], founded_by(FOUNDER))
    assert folded.successor is None and not folded.is_banned(ANNA)


@pytest.mark.parametrize(
    "value",
    [
        {"act": "join"},
        {"act": "join", "card": {"v": 1, "key": "a" * 64, "seal": "b" * 64, "sig": "c" * 128}},
        {"act": "remove", "key": "a" * 64},
        {"act": "remove", "key": "a" * 64, "to": "not hex"},
    ],
)
def test_malformed_joins_and_removals_are_refused(value: dict[str, object]) -> None:
    with pytest.raises(InvalidEnvelope):
        check_act(value)


def test_nothing_counts_in_a_channel_after_its_removal_not_even_a_join() -> None:
    founder, anna, ben, stand_in = (Identity.generate() for _ in range(4))
    f, a, b = founder.public_key, anna.public_key, ben.public_key
    acts = [
        _joined(1, founder),
        _joined(2, anna),
        _joined(3, ben),
        act(4, f, "appoint", a),
        _removed(5, f, b),
        _joined(6, stand_in),  # the removed member's second key, using the old key
        act(7, f, "dismiss", a),
    ]
    folded = fold(acts, lambda _: False, None, Start.private_channel(f))
    assert stand_in.public_key not in folded.members
    assert {acts[5].cid, acts[6].cid} <= set(folded.ignored)
    after = fold([], lambda _: False, None, Start.private_channel(f, folded))
    assert stand_in.public_key not in after.members
    # Whoever moderated goes on moderating the successor, and can be dismissed there.
    assert after.moderators == {f, a}
    dismissed = fold(
        [Act("bafy0001dismiss", 1, f, "dismiss", a)],
        lambda _: False,
        None,
        Start.private_channel(f, folded),
    )
    assert dismissed.moderators == {f}
