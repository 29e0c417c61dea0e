from __future__ import annotations

import dataclasses

import pytest

from chatbox.domain import canonical, envelope, sync
from chatbox.domain.identity import Identity
from chatbox.domain.log import ChannelLog, next_position
from chatbox.domain.sealing import new_key
from chatbox.errors import InvalidEnvelope

CHANNEL = "ab" * 32
PEER = "12D3KooWExamplePeer"


def _announcement(box: Identity, **changes: object) -> sync.Announcement:
    base = sync.Announcement("heads", box.public_key, "chatbox", PEER, CHANNEL, 5, (), "", ())
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _chain(count: int) -> ChannelLog:
    log, author = ChannelLog(CHANNEL), Identity.generate()
    for number in range(count):
        clock, prev = next_position(log.head_positions())
        log.add(envelope.create(author, CHANNEL, clock, prev, 0, {"text": f"m{number}"}))
    return log


def _links(log: ChannelLog) -> dict[str, tuple[int, list[str]]]:
    return {entry.cid: (entry.clock, list(entry.prev)) for entry in log.entries()}


def test_an_announcement_round_trips_with_its_entries() -> None:
    box, log = Identity.generate(), _chain(2)
    raws = tuple(entry.raw for entry in log.entries())
    sent = _announcement(box, cids=tuple(log.heads()), entries=raws)
    received = sync.decode(sync.encode(sent, box, None), CHANNEL, None, PEER)
    assert received == sent


def test_a_private_announcement_opens_only_with_the_channel_key() -> None:
    box, key = Identity.generate(), new_key()
    data = sync.encode(_announcement(box, name="secret-box"), box, key)
    assert b"secret-box" not in data
    assert sync.decode(data, CHANNEL, key, PEER).name == "secret-box"
    with pytest.raises(InvalidEnvelope, match="not sealed with the channel key"):
        sync.decode(data, CHANNEL, new_key(), PEER)
    with pytest.raises(InvalidEnvelope):
        sync.decode(data, CHANNEL, None, PEER)


@pytest.mark.parametrize(
    ("channel", "peer", "reason"),
    [
        ("cd" * 32, PEER, "another channel"),
        (CHANNEL, "12D3KooWSomebodyElse", "another peer"),
    ],
)
def test_an_announcement_must_come_from_its_peer_on_its_own_topic(
    channel: str, peer: str, reason: str
) -> None:
    box = Identity.generate()
    with pytest.raises(InvalidEnvelope, match=reason):
        sync.decode(sync.encode(_announcement(box), box, None), channel, None, peer)


def test_an_altered_or_missigned_announcement_is_refused() -> None:
    box = Identity.generate()
    data = sync.encode(_announcement(box, name="honest"), box, None)
    with pytest.raises(InvalidEnvelope, match="signature"):
        sync.decode(data.replace(b"honest", b"forged"), CHANNEL, None, PEER)
    missigned = sync.encode(_announcement(box), Identity.generate(), None)
    with pytest.raises(InvalidEnvelope, match="signature"):
        sync.decode(missigned, CHANNEL, None, PEER)


@pytest.mark.parametrize(
    "data",
    [b"", b"{}", b"[1]", b'{"v": 1.5}', b"\xff" * 10, b"x" * (sync.MAX_ANNOUNCEMENT_BYTES + 1)],
)
def test_malformed_announcements_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidEnvelope):
        sync.decode(data, CHANNEL, None, PEER)


def test_a_signature_that_is_not_hex_is_refused_not_a_crash() -> None:
    box = Identity.generate()
    data = sync.encode(_announcement(box), box, None)
    fields = canonical.loads(data)
    fields["sig"] = "zz" * 64
    with pytest.raises(InvalidEnvelope, match="signature is not 64 bytes"):
        sync.decode(canonical.dumps(fields), CHANNEL, None, PEER)


def test_bad_fields_are_refused_even_when_signed() -> None:
    box = Identity.generate()
    for changes in (
        {"kind": "gossip"},
        {"cids": ("not-a-cid",)},
        {"to": "someone"},
        {"name": ""},
    ):
        data = sync.encode(_announcement(box, **changes), box, None)
        with pytest.raises(InvalidEnvelope):
            sync.decode(data, CHANNEL, None, PEER)


def test_the_sample_doubles_its_distance_and_ends_at_the_root() -> None:
    order = [f"c{n}" for n in range(100)]  # newest first
    assert sync.sample(order) == ["c0", "c1", "c2", "c4", "c8", "c16", "c32", "c64", "c99"]
    assert sync.sample([]) == []
    assert sync.sample(["only"]) == ["only"]


def test_lacking_is_what_the_asker_cannot_reach_from_what_it_holds() -> None:
    log = _chain(10)
    entries = log.entries()
    links = _links(log)
    assert sync.lacking(links, [entries[6].cid]) == [e.cid for e in entries[7:]]
    assert sync.lacking(links, [entries[-1].cid]) == []
    assert sync.lacking(links, []) == [e.cid for e in entries]
    # CIDs the responder never saw (the asker's own new entries) change nothing.
    assert sync.lacking(links, ["unknown", entries[8].cid]) == [entries[9].cid]


def test_lacking_after_a_fork_sends_only_the_other_branch_and_the_sampled_overlap() -> None:
    common = _chain(20)
    ours, theirs = ChannelLog(CHANNEL, common.entries()), ChannelLog(CHANNEL, common.entries())
    author = Identity.generate()
    for log, count in ((ours, 30), (theirs, 5)):
        for number in range(count):
            clock, prev = next_position(log.head_positions())
            log.add(envelope.create(author, CHANNEL, clock, prev, 1, {"text": f"{count}-{number}"}))
    asker_newest_first = [entry.cid for entry in reversed(theirs.entries())]
    sent = sync.lacking(_links(ours), sync.sample(asker_newest_first))
    assert set(sent) >= {entry.cid for entry in ours.entries()} - {
        entry.cid for entry in theirs.entries()
    }
    assert len(sent) <= 30 + 2 * 5  # the branch, and at most about as much again


def test_packs_keep_order_and_stay_under_the_limit() -> None:
    raws = [bytes([n]) * 100 for n in range(25)]
    packed = sync.packs(raws, limit=1000)
    assert [raw for pack in packed for raw in pack] == raws
    assert all(sum(map(len, pack)) <= 1000 for pack in packed)
    assert len(packed) == 3
    assert sync.packs([]) == []
