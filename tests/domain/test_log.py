from __future__ import annotations

import random

from chatbox.domain import envelope
from chatbox.domain.identity import Identity
from chatbox.domain.log import ChannelLog, next_position

CHANNEL = "cd" * 32


def _append(log: ChannelLog, author: Identity, text: str) -> envelope.Envelope:
    clock, prev = next_position(log.head_positions())
    entry = envelope.create(author, CHANNEL, clock, prev, 0, {"text": text})
    assert log.add(entry)
    return entry


def test_appends_chain_into_one_head_with_growing_clock() -> None:
    log, author = ChannelLog(CHANNEL), Identity.generate()
    entries = [_append(log, author, f"m{i}") for i in range(5)]
    assert log.heads() == [entries[-1].cid]
    assert [entry.clock for entry in log.entries()] == [1, 2, 3, 4, 5]
    assert entries[3].prev == (entries[2].cid,)


def test_divergent_replicas_merge_to_the_same_order_both_ways() -> None:
    alice, bob = Identity.generate(), Identity.generate()
    left = ChannelLog(CHANNEL)
    _append(left, alice, "common")
    right = ChannelLog(CHANNEL, left.entries())
    for i in range(20):
        _append(left, alice, f"a{i}")
    for i in range(7):
        _append(right, bob, f"b{i}")
    assert len(left.heads()) == 1 and left.heads() != right.heads()

    merged_left, merged_right = (
        ChannelLog(CHANNEL, left.entries()),
        ChannelLog(CHANNEL, right.entries()),
    )
    assert merged_left.merge(right) == 7
    assert merged_right.merge(left) == 20
    assert merged_left.entries() == merged_right.entries()
    assert merged_left.heads() == merged_right.heads()
    assert len(merged_left.heads()) == 2

    joined = _append(merged_left, alice, "after the merge")
    assert set(joined.prev) == set(merged_right.heads())
    assert joined.clock == 22
    assert merged_left.heads() == [joined.cid]


def test_order_is_clock_then_cid_whatever_the_arrival_order() -> None:
    author, source = Identity.generate(), ChannelLog(CHANNEL)
    for i in range(30):
        _append(source, author, f"m{i}")
    shuffled = source.entries()
    random.Random(7).shuffle(shuffled)
    replica = ChannelLog(CHANNEL, shuffled)
    assert replica.entries() == source.entries()
    assert replica.heads() == source.heads()
    assert replica.missing() == set()


def test_missing_parents_are_reported_until_they_arrive() -> None:
    author, source = Identity.generate(), ChannelLog(CHANNEL)
    first, second = _append(source, author, "1"), _append(source, author, "2")
    replica = ChannelLog(CHANNEL, [second])
    assert replica.missing() == {first.cid}
    replica.add(first)
    assert replica.missing() == set()
    assert replica.heads() == [second.cid]


def test_next_position_on_empty_log() -> None:
    assert next_position([]) == (1, [])
