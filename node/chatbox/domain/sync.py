"""Sync between boxes: the signed announcements on a channel's pubsub topic, and what to send.

Three kinds travel on a channel's topic (DESIGN.md section 3), each canonical JSON signed by
the sending box's key and naming its libp2p peer id, so a receiver checks both the box key
and the sender libp2p authenticated:

- ``heads``: the sender's heads of the channel, with its newest entries inline when small;
- ``want``: to one box, a sample of what the asker holds (its heads and entries at
  exponentially growing distances back), asking for everything else;
- ``pack``: to the asker, the entries it lacks, oldest first, many per message.

In a private channel the whole signed announcement is sealed with the channel key (and the
topic derives from it), so a box without the key neither finds the topic nor reads it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from chatbox.domain import canonical
from chatbox.domain.cid import check_raw_cid
from chatbox.domain.identity import Identity, verify_signature
from chatbox.domain.person_names import MAX_DISPLAY_NAME
from chatbox.domain.sealing import open_sealed, seal
from chatbox.errors import Forbidden, InvalidEnvelope, InvalidInput

VERSION = 1
T = TypeVar("T")
Kind = Literal["heads", "want", "pack"]
KINDS: tuple[Kind, ...] = ("heads", "want", "pack")
# Gossipsub refuses messages over 1 MiB (go-libp2p-pubsub DefaultMaxMessageSize); base64
# adds a third, so a pack carries at most this many envelope bytes.
MAX_PACK_BYTES = 256 * 1024
MAX_ANNOUNCEMENT_BYTES = 1024 * 1024
MAX_LISTED_CIDS = 256
_SIGNING_CONTEXT = b"chatbox-announcement-v1\n"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")
_FIELDS = frozenset(
    {
        "v",
        "kind",
        "box",
        "name",
        "peer",
        "ch",
        "ts",
        "cids",
        "to",
        "entries",
        "contents",
        "people",
        "sig",
    }
)
MAX_PERSON_NAME = MAX_DISPLAY_NAME


@dataclass(frozen=True)
class Announcement:
    """A checked announcement; ``entries`` are raw envelope bytes, not yet verified."""

    kind: Kind
    box: str  # the sending box's public key (hex)
    name: str  # the sending box's name, for the buddy list
    peer: str  # the sending box's libp2p peer id
    channel: str
    ts: int
    cids: tuple[str, ...] = ()  # heads (heads) or the sample of what the asker holds (want)
    to: str = ""  # the box a want or pack is meant for
    entries: tuple[bytes, ...] = field(default=(), repr=False)
    # The content blocks (domain/content.py) of those entries that have one and still hold it.
    contents: tuple[bytes, ...] = field(default=(), repr=False)
    # The names the sending box's accounts go by, for authors of inline entries.
    people: tuple[tuple[str, str], ...] = ()


def encode(announcement: Announcement, box: Identity, channel_key: bytes | None) -> bytes:
    """Sign ``announcement`` with the box key; seal it for a private channel's topic."""
    fields = _fields(announcement)
    signature = box.sign(_SIGNING_CONTEXT + canonical.dumps(fields)).hex()
    signed = canonical.dumps({**fields, "sig": signature})
    return signed if channel_key is None else seal(channel_key, signed, _aad(announcement.channel))


def decode(data: bytes, channel: str, channel_key: bytes | None, sender_peer: str) -> Announcement:
    """Open, check and verify an announcement received on ``channel``'s topic.

    Raises InvalidEnvelope for anything a box may not send: bad seal, shape, channel,
    signature, or a peer id other than the libp2p sender's.
    """
    if len(data) > MAX_ANNOUNCEMENT_BYTES:
        raise InvalidEnvelope("announcement is larger than 1 MiB")
    if channel_key is not None:
        try:
            data = open_sealed(channel_key, data, _aad(channel))
        except Forbidden as exc:
            raise InvalidEnvelope("announcement is not sealed with the channel key") from exc
    try:
        fields = canonical.loads(data)
    except InvalidInput as exc:
        raise InvalidEnvelope("announcement is not valid JSON") from exc
    announcement = _parse(fields)
    unsigned = {key: value for key, value in fields.items() if key != "sig"}
    signature = bytes.fromhex(fields["sig"])
    signed = _SIGNING_CONTEXT + canonical.dumps(unsigned)
    if not verify_signature(announcement.box, signature, signed):
        raise InvalidEnvelope("announcement signature is not valid")
    if announcement.channel != channel:
        raise InvalidEnvelope("announcement names another channel than its topic's")
    if announcement.peer != sender_peer:
        raise InvalidEnvelope("announcement names another peer than the one that sent it")
    return announcement


def sample(order: list[str]) -> list[str]:
    """What a want tells of the asker's log: entries 0, 1, 2, 4, 8, ... back from the newest.

    ``order`` is the log newest first. The responder finds the newest sampled entry it
    knows; since samples double in distance, what it sends beyond the asker's need is at
    most about as much again as what the asker lacked.
    """
    chosen: list[str] = []
    step = 1
    position = 0
    while position < len(order) and len(chosen) < MAX_LISTED_CIDS:
        chosen.append(order[position])
        position = step
        step *= 2
    if order and order[-1] not in chosen and len(chosen) < MAX_LISTED_CIDS:
        chosen.append(order[-1])  # the root: a shared beginning is then always found
    return chosen


def lacking(
    log: Mapping[str, tuple[int, Iterable[str]]], held_by_asker: Iterable[str]
) -> list[str]:
    """CIDs of ``log`` (cid -> (clock, prev)) that are not ancestors of what the asker holds.

    Oldest first in the log's total order. CIDs the responder does not know are ignored.
    """
    known = [cid for cid in held_by_asker if cid in log]
    covered: set[str] = set()
    while known:
        cid = known.pop()
        if cid in covered or cid not in log:
            continue
        covered.add(cid)
        known.extend(log[cid][1])
    return sorted((cid for cid in log if cid not in covered), key=lambda cid: (log[cid][0], cid))


def packs(
    entries: list[T], limit: int = MAX_PACK_BYTES, size: Callable[[T], int] | None = None
) -> list[list[T]]:
    """Split envelopes (or envelopes with their content blocks: ``size`` tells the bytes of
    one), kept in order, into packs of at most ``limit`` bytes each."""
    measure: Callable[[Any], int] = size or len
    result: list[list[T]] = []
    filled = limit + 1
    for item in entries:
        if filled + measure(item) > limit:
            result.append([])
            filled = 0
        result[-1].append(item)
        filled += measure(item)
    return result


def _fields(announcement: Announcement) -> dict[str, Any]:
    return {
        "v": VERSION,
        "kind": announcement.kind,
        "box": announcement.box,
        "name": announcement.name,
        "peer": announcement.peer,
        "ch": announcement.channel,
        "ts": announcement.ts,
        "cids": list(announcement.cids),
        "to": announcement.to,
        "entries": [base64.b64encode(raw).decode("ascii") for raw in announcement.entries],
        "contents": [base64.b64encode(raw).decode("ascii") for raw in announcement.contents],
        "people": dict(announcement.people),
    }


def _parse(fields: Any) -> Announcement:
    if not isinstance(fields, dict) or set(fields) != _FIELDS or not _is_version(fields["v"]):
        raise InvalidEnvelope("announcement does not have exactly the announcement fields")
    if fields["kind"] not in KINDS:
        raise InvalidEnvelope("unknown announcement kind", detail=str(fields["kind"])[:20])
    for name in ("box", "ch"):
        if not isinstance(fields[name], str) or not _HEX64.fullmatch(fields[name]):
            raise InvalidEnvelope(f"announcement field {name!r} is not a 32-byte hex value")
    to = fields["to"]
    if not (to == "" or (isinstance(to, str) and _HEX64.fullmatch(to))):
        raise InvalidEnvelope("announcement field 'to' is not a box key")
    if not isinstance(fields["sig"], str) or not _HEX128.fullmatch(fields["sig"]):
        raise InvalidEnvelope("announcement signature is not 64 bytes of hex")
    for name in ("name", "peer"):
        if not isinstance(fields[name], str) or not 0 < len(fields[name]) <= 128:
            raise InvalidEnvelope(f"announcement field {name!r} must be short text")
    if not canonical.is_int(fields["ts"]) or fields["ts"] < 0:
        raise InvalidEnvelope("announcement timestamp is not a valid integer")
    return Announcement(
        kind=fields["kind"],
        box=fields["box"],
        name=fields["name"],
        peer=fields["peer"],
        channel=fields["ch"],
        ts=fields["ts"],
        cids=_cids(fields["cids"]),
        to=fields["to"],
        entries=_entries(fields["entries"]),
        contents=_entries(fields["contents"]),
        people=_people(fields["people"]),
    )


def _is_version(value: Any) -> bool:
    return canonical.is_int(value) and value == VERSION


def _cids(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_LISTED_CIDS:
        raise InvalidEnvelope(f"announcement lists more than {MAX_LISTED_CIDS} CIDs")
    try:
        for cid in value:
            check_raw_cid(cid)
    except (InvalidInput, TypeError) as exc:
        raise InvalidEnvelope("announcement lists an invalid CID") from exc
    return tuple(value)


def _people(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or len(value) > MAX_LISTED_CIDS:
        raise InvalidEnvelope("announcement people must be a map of keys to names")
    for key, name in value.items():
        valid_name = isinstance(name, str) and 0 < len(name) <= MAX_PERSON_NAME
        if not (_HEX64.fullmatch(key) and valid_name and name.isprintable()):
            raise InvalidEnvelope("announcement names a person with a bad key or name")
    return tuple(sorted(value.items()))


def _entries(value: Any) -> tuple[bytes, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidEnvelope("announcement entries must be a list of base64 text")
    try:
        return tuple(base64.b64decode(item, validate=True) for item in value)
    except (binascii.Error, ValueError) as exc:
        raise InvalidEnvelope("announcement entry is not base64") from exc


def _aad(channel: str) -> bytes:
    return b"chatbox-announcement\n" + channel.encode("ascii")
