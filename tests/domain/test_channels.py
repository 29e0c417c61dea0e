from __future__ import annotations

import base64
import string

import pytest

from chatbox.domain import canonical, channels
from chatbox.errors import InvalidInput

FOUNDER, OTHER = "a1" * 32, "b2" * 32


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
    private = channels.new_private_channel("Family", FOUNDER)
    token = channels.encode_invite(private)
    assert channels.decode_invite(token) == private
    for damaged in (token[:-5], token + "!", "", "e30", "W10"):
        with pytest.raises(InvalidInput):
            channels.decode_invite(damaged)
    with pytest.raises(InvalidInput):
        channels.encode_invite(channels.public_channel("general"))


def test_every_one_character_change_to_an_invite_is_refused() -> None:
    private = channels.new_private_channel("Family", FOUNDER)
    token = channels.encode_invite(private)
    alphabet = string.ascii_letters + string.digits + "-_"
    refused = 0
    for position, original in enumerate(token):
        for replacement in alphabet.replace(original, "")[::7]:
            changed = token[:position] + replacement + token[position + 1 :]
            # A change may land on the version digit: refused as from another version.
            with pytest.raises(InvalidInput, match=r"damaged or was changed|another version"):
                channels.decode_invite(changed)
            refused += 1
    assert refused > 5 * len(token)


def test_an_invite_for_a_planted_id_is_refused_even_with_a_recomputed_tag() -> None:
    """The look-alike: the real channel's name and key, another id, tagged by the forger
    (who holds the key from the real link)."""
    private = channels.new_private_channel("Family", FOUNDER)
    forged = channels.Channel("ab" * 32, private.name, "private", private.key, founder=FOUNDER)
    with pytest.raises(InvalidInput, match="damaged or was changed") as refused:
        channels.decode_invite(channels.encode_invite(forged))
    assert refused.value.detail == "the channel id does not belong to its key and founder"
    # Nor may a member name themselves founder of the channel they hold the key of.
    usurped = channels.Channel(private.id, private.name, "private", private.key, founder=OTHER)
    with pytest.raises(InvalidInput, match="damaged or was changed"):
        channels.decode_invite(channels.encode_invite(usurped))


def test_a_private_channel_id_is_derived_from_its_key() -> None:
    private = channels.new_private_channel("Family", FOUNDER)
    assert private.key is not None
    assert private.id == channels.private_channel_id(private.key, FOUNDER)
    assert private.id != channels.private_channel_id(private.key, OTHER)
    assert channels.new_private_channel("Family", FOUNDER).id != private.id


def test_an_invite_of_another_version_says_so() -> None:
    token = channels.encode_invite(channels.new_private_channel("x", FOUNDER))
    payload = canonical.loads(_raw(token))
    payload["v"] = 1
    token = base64.urlsafe_b64encode(canonical.dumps(payload)).decode().rstrip("=")
    with pytest.raises(InvalidInput, match="another version"):
        channels.decode_invite(token)


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def test_private_topic_is_derived_from_the_key() -> None:
    first = channels.new_private_channel("a", FOUNDER)
    second = channels.new_private_channel("a", FOUNDER)
    assert channels.pubsub_topic(first) != channels.pubsub_topic(second)
    assert first.id not in channels.pubsub_topic(first)
    assert channels.pubsub_topic(channels.public_channel("a")).endswith(
        channels.public_channel("a").id
    )
