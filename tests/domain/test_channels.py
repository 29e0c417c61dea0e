from __future__ import annotations

import pytest

from chatbox.domain import channels
from chatbox.errors import InvalidInput


def test_names_are_normalized_before_hashing() -> None:
    assert channels.normalize_name("  Maker   SPACE ") == "maker space"
    assert channels.public_channel("General").id == channels.public_channel("general ").id


def test_public_id_is_keccak256_not_sha3() -> None:
    # keccak256("") differs from sha3-256(""): Ethereum uses the original Keccak padding.
    from Crypto.Hash import keccak

    assert keccak.new(digest_bits=256, data=b"").hexdigest() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert (
        channels.public_channel("general").id
        == keccak.new(digest_bits=256, data=b"general").hexdigest()
    )


@pytest.mark.parametrize("name", ["", " ", "x" * 65, "-dash", "a/b", "<script>", 7])
def test_bad_names_are_refused(name: object) -> None:
    with pytest.raises(InvalidInput):
        channels.normalize_name(name)  # type: ignore[arg-type]


def test_invite_round_trip_and_damage() -> None:
    private = channels.new_private_channel("Family")
    token = channels.encode_invite(private)
    assert channels.decode_invite(token) == private
    for damaged in (token[:-5], token + "!", "", "e30", "W10"):
        with pytest.raises(InvalidInput):
            channels.decode_invite(damaged)
    with pytest.raises(InvalidInput):
        channels.encode_invite(channels.public_channel("general"))


def test_private_topic_is_derived_from_the_key() -> None:
    first, second = channels.new_private_channel("a"), channels.new_private_channel("a")
    assert channels.pubsub_topic(first) != channels.pubsub_topic(second)
    assert first.id not in channels.pubsub_topic(first)
    assert channels.pubsub_topic(channels.public_channel("a")).endswith(
        channels.public_channel("a").id
    )
