from __future__ import annotations

import json

import pytest

from chatbox.domain import canonical, envelope
from chatbox.domain.cid import raw_cid
from chatbox.domain.identity import Identity
from chatbox.errors import InvalidEnvelope, InvalidInput

CHANNEL = "ab" * 32


@pytest.fixture(scope="module")
def author() -> Identity:
    return Identity.generate()


def _signed(author: Identity, **fields: object) -> envelope.Envelope:
    return envelope.create(author, CHANNEL, 1, [], 1_700_000_000_000, {"text": "hi"})


def test_created_envelope_parses_back_identically(author: Identity) -> None:
    entry = _signed(author)
    again = envelope.parse(entry.raw, expected_cid=entry.cid)
    assert again == entry
    assert entry.cid == raw_cid(entry.raw)
    assert entry.author == author.public_key
    assert json.loads(entry.raw)["body"] == {"text": "hi"}


def test_canonical_form_has_sorted_keys_and_no_spaces(author: Identity) -> None:
    raw = _signed(author).raw
    assert b" " not in raw.replace(b'"hi"', b"")
    assert list(json.loads(raw)) == sorted(json.loads(raw))


def test_forged_signature_is_rejected(author: Identity) -> None:
    fields = json.loads(_signed(author).raw)
    fields["sig"] = Identity.generate().sign(b"something else").hex()
    with pytest.raises(InvalidEnvelope, match="signature"):
        envelope.parse(canonical.dumps(fields))


def test_altered_body_breaks_the_signature(author: Identity) -> None:
    fields = json.loads(_signed(author).raw)
    fields["body"] = {"text": "hi, I owe you 100"}
    with pytest.raises(InvalidEnvelope, match="signature"):
        envelope.parse(canonical.dumps(fields))


def test_bytes_that_do_not_match_the_announced_cid_are_rejected(author: Identity) -> None:
    one, other = _signed(author), envelope.create(author, CHANNEL, 2, [], 5, {"text": "x"})
    with pytest.raises(InvalidEnvelope, match="CID"):
        envelope.parse(one.raw, expected_cid=other.cid)


def test_non_canonical_bytes_are_rejected(author: Identity) -> None:
    pretty = json.dumps(json.loads(_signed(author).raw), indent=1).encode()
    with pytest.raises(InvalidEnvelope, match="canonical"):
        envelope.parse(pretty)


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe", b"[]", b'{"v":1}', b"1.5", b"null"])
def test_malformed_bytes_are_rejected(raw: bytes) -> None:
    with pytest.raises(InvalidEnvelope):
        envelope.parse(raw)


def test_a_lone_surrogate_escape_is_refused_as_malformed(author: Identity) -> None:
    """JSON can spell a code point UTF-8 cannot hold; it must not reach the canonical check."""
    raw = _signed(author).raw.replace(b'"hi"', b'"\\ud800"')
    assert b"\\ud800" in raw
    with pytest.raises(InvalidEnvelope, match="not valid JSON"):
        envelope.parse(raw)


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"clock": 0},
        {"clock": True},
        {"ts": -1},
        {"ch": "zz"},
        {"author": "ab"},
        {"prev": ["not-a-cid"]},
        {"prev": "x"},
        {"body": {}},
        {"body": {"text": ""}},
        {"body": {"text": "a", "file": {}}},
        {"body": {"file": {"cid": "x"}}},
        {"body": {"text": "x" * (envelope.MAX_TEXT_CHARS + 1)}},
    ],
)
def test_malformed_fields_are_rejected(author: Identity, change: dict[str, object]) -> None:
    fields = json.loads(_signed(author).raw)
    fields.update(change)
    with pytest.raises(InvalidEnvelope):
        envelope.parse(canonical.dumps(fields))


def test_prev_must_be_sorted_and_clock_above_one(author: Identity) -> None:
    first = _signed(author)
    second = envelope.create(author, CHANNEL, 2, [first.cid], 1, {"text": "b"})
    fields = json.loads(second.raw)
    fields["clock"] = 1
    with pytest.raises(InvalidEnvelope, match="clock above 1"):
        envelope.parse(canonical.dumps(fields))
    fields["clock"], fields["prev"] = 2, [first.cid, first.cid]
    with pytest.raises(InvalidEnvelope, match="sorted"):
        envelope.parse(canonical.dumps(fields))


def test_canonical_loads_refuses_floats_and_duplicate_keys() -> None:
    with pytest.raises(InvalidInput):
        canonical.loads(b'{"a":1.0}')
    with pytest.raises(InvalidInput):
        canonical.loads(b'{"a":1,"a":2}')
    with pytest.raises(InvalidInput):
        canonical.loads(b"NaN")
