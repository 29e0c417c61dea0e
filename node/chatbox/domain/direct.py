"""Direct conversations: people's cards, the keys of conversations sealed to them, and the
people announcement that carries both between boxes (docs/PROTOCOL.md section 12).

- A **card** binds a person's X25519 sealing key to their Ed25519 key with their own
  signature, so a box cannot swap in a sealing key of its own for someone else's.
- A **grant** carries a conversation's key to one member: sealed to the member's sealing
  key through an ephemeral X25519 exchange (HKDF-SHA256, then AES-256-GCM), and signed by
  the member who made the conversation. Only the recipient's key opens it.
- A **people announcement**, signed by a box, lists the cards and names of its people and
  the grants it still delivers, on one topic every box follows.

A conversation is otherwise a private channel (section 4): its id derives from its key.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from chatbox.domain import canonical
from chatbox.domain.channels import private_channel_id
from chatbox.domain.identity import Identity, verify_signature
from chatbox.domain.person_names import MAX_DISPLAY_NAME
from chatbox.domain.sealing import KEY_LENGTH, open_sealed, seal
from chatbox.errors import Forbidden, InvalidEnvelope, InvalidInput

VERSION = 1
PEOPLE_TOPIC = "chatbox/v1/people"
MAX_MEMBERS = 8  # a conversation is one to one, or a small group
MAX_PEOPLE = 256  # people in one announcement
MAX_GRANTS = 64  # grants in one announcement
MAX_ANNOUNCEMENT_BYTES = 1024 * 1024
_CARD_CONTEXT = b"chatbox-card-v1\n"
_GRANT_CONTEXT = b"chatbox-grant-v1\n"
_PEOPLE_CONTEXT = b"chatbox-people-v1\n"
_HKDF_INFO = b"chatbox-grant-key-v1"
_HEX64 = re.compile(r"[0-9a-f]{64}")
HANDLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}")  # a login name, as accounts have
_HEX128 = re.compile(r"[0-9a-f]{128}")
_CARD_FIELDS = frozenset({"v", "key", "seal", "sig"})
_GRANT_FIELDS = frozenset({"v", "ch", "from", "to", "eph", "sealed", "sig"})
_PEOPLE_FIELDS = frozenset({"v", "box", "name", "peer", "ts", "people", "grants", "sig"})


@dataclass(frozen=True)
class Card:
    """A person's keys, signed by the person: ``key`` signs, ``seal`` receives sealed keys."""

    key: str
    seal: str
    sig: str

    def as_json(self) -> dict[str, Any]:
        return {"v": VERSION, "key": self.key, "seal": self.seal, "sig": self.sig}

    @classmethod
    def kept(cls, value: dict[str, Any]) -> Card:
        """A card ``check_card`` accepted before (stored, or folded from a join act)."""
        return cls(value["key"], value["seal"], value["sig"])


@dataclass(frozen=True)
class Grant:
    """A conversation's key sealed to one member; ``raw`` is its exact canonical bytes."""

    channel: str
    sender: str  # the member who made the conversation, whose signature it carries
    recipient: str
    raw: bytes


@dataclass(frozen=True)
class Opened:
    """What a grant holds once its recipient opens it: a conversation's key and members,
    or the key of a private channel's successor and the channel it continues."""

    channel: str
    key: bytes
    members: tuple[str, ...]  # a conversation's members' signing keys, sorted; else ()
    sender: str
    founder: str  # whose key the channel's id binds: a conversation's starter
    follows: str | None = None  # a successor's: the channel it continues


@dataclass(frozen=True)
class Person:
    card: Card
    handle: str  # their login name on their box: ``@handle@box`` mentions them
    name: str  # the name the sending box gives them, for display only


@dataclass(frozen=True)
class PeopleAnnouncement:
    box: str
    name: str
    peer: str
    ts: int
    people: tuple[Person, ...]
    grants: tuple[Grant, ...]


def make_card(person: Identity) -> Card:
    fields = {"v": VERSION, "key": person.public_key, "seal": person.sealing_public_key}
    signature = person.sign(_CARD_CONTEXT + canonical.dumps(fields)).hex()
    return Card(person.public_key, person.sealing_public_key, signature)


def check_card(value: Any) -> Card:
    """A card as received: exact fields, and a signature by the key it names."""
    if not isinstance(value, dict) or set(value) != _CARD_FIELDS or not _is_version(value["v"]):
        raise InvalidEnvelope("a card does not have exactly the card fields")
    if not all(_is_hex(value[name]) for name in ("key", "seal")):
        raise InvalidEnvelope("a card's keys are not 32-byte hex values")
    if not (isinstance(value["sig"], str) and _HEX128.fullmatch(value["sig"])):
        raise InvalidEnvelope("a card's signature is not 64 bytes of hex")
    unsigned = {name: item for name, item in value.items() if name != "sig"}
    signed = _CARD_CONTEXT + canonical.dumps(unsigned)
    if not verify_signature(value["key"], bytes.fromhex(value["sig"]), signed):
        raise InvalidEnvelope("a card's signature is not its person's")
    return Card(value["key"], value["seal"], value["sig"])


def make_grant(sender: Identity, recipient: Card, key: bytes, members: list[str]) -> Grant:
    """Seal a conversation's ``key`` and member list to ``recipient``, signed by ``sender``."""
    channel = private_channel_id(key, sender.public_key)
    everyone = tuple(sorted(set(members)))
    _check_members(everyone, sender.public_key, recipient.key)
    inside = {"key": key.hex(), "members": list(everyone)}
    return _sealed_grant(sender, recipient, channel, inside)


def make_successor_grant(
    sender: Identity, recipient: Card, key: bytes, founder: str, follows: str
) -> Grant:
    """Seal the key of the channel that continues ``follows`` to one of its members left."""
    channel = private_channel_id(key, founder)
    inside = {"follows": follows, "founder": founder, "key": key.hex()}
    return _sealed_grant(sender, recipient, channel, inside)


def _sealed_grant(sender: Identity, recipient: Card, channel: str, inside: dict[str, Any]) -> Grant:
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(bytes.fromhex(recipient.seal)))
    eph = ephemeral.public_key().public_bytes_raw().hex()
    secret = _grant_key(shared, eph, recipient.seal)
    plaintext = canonical.dumps(inside)
    fields = {
        "v": VERSION,
        "ch": channel,
        "from": sender.public_key,
        "to": recipient.key,
        "eph": eph,
        "sealed": base64.b64encode(
            seal(secret, plaintext, _grant_aad(channel, sender.public_key, recipient.key))
        ).decode("ascii"),
    }
    signature = sender.sign(_GRANT_CONTEXT + canonical.dumps(fields)).hex()
    raw = canonical.dumps({**fields, "sig": signature})
    return Grant(channel, sender.public_key, recipient.key, raw)


def check_grant(value: Any) -> Grant:
    """A grant as received: exact fields and its sender's signature (its seal stays shut)."""
    if not isinstance(value, dict) or set(value) != _GRANT_FIELDS or not _is_version(value["v"]):
        raise InvalidEnvelope("a grant does not have exactly the grant fields")
    if not all(_is_hex(value[name]) for name in ("ch", "from", "to", "eph")):
        raise InvalidEnvelope("a grant's ids and keys are not 32-byte hex values")
    if not (isinstance(value["sig"], str) and _HEX128.fullmatch(value["sig"])):
        raise InvalidEnvelope("a grant's signature is not 64 bytes of hex")
    _sealed_bytes(value["sealed"])
    unsigned = {name: item for name, item in value.items() if name != "sig"}
    signed = _GRANT_CONTEXT + canonical.dumps(unsigned)
    if not verify_signature(value["from"], bytes.fromhex(value["sig"]), signed):
        raise InvalidEnvelope("a grant's signature is not its sender's")
    return Grant(value["ch"], value["from"], value["to"], canonical.dumps(value))


def open_grant(grant: Grant, recipient: Identity) -> Opened:
    """Open a grant with the recipient's sealing key; check the key gives its channel id
    and that sender and recipient are both members. Forbidden when it is not theirs."""
    fields = canonical.loads(grant.raw)
    if grant.recipient != recipient.public_key:
        raise Forbidden("this grant is meant for someone else")
    try:  # a low-order ephemeral key gives an all-zero secret, which the library refuses
        shared = recipient.sealing.exchange(
            X25519PublicKey.from_public_bytes(bytes.fromhex(fields["eph"]))
        )
    except ValueError as exc:
        raise InvalidEnvelope("a grant's ephemeral key is not a usable X25519 key") from exc
    secret = _grant_key(shared, fields["eph"], recipient.sealing_public_key)
    aad = _grant_aad(grant.channel, grant.sender, grant.recipient)
    plaintext = open_sealed(secret, _sealed_bytes(fields["sealed"]), aad)
    try:
        inside = canonical.loads(plaintext)
        key = bytes.fromhex(inside["key"])
    except (InvalidInput, KeyError, TypeError, ValueError) as exc:
        raise InvalidEnvelope("a grant's sealed part is not a key and members") from exc
    if len(key) != KEY_LENGTH:
        raise InvalidEnvelope("a grant's key is not 32 bytes")
    if isinstance(inside, dict) and set(inside) == {"follows", "founder", "key"}:
        return _opened_successor(grant, key, inside["founder"], inside["follows"])
    if not isinstance(inside, dict) or set(inside) != {"key", "members"}:
        raise InvalidEnvelope("a grant's sealed part is not a key and members")
    members = inside["members"]
    if private_channel_id(key, grant.sender) != grant.channel:
        raise InvalidEnvelope("a grant's key does not give its conversation's id")
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise InvalidEnvelope("a grant's members are not sorted distinct keys")
    if members != sorted(set(members)):
        raise InvalidEnvelope("a grant's members are not sorted distinct keys")
    _check_members(tuple(members), grant.sender, grant.recipient)
    return Opened(grant.channel, key, tuple(members), grant.sender, grant.sender)


def _opened_successor(grant: Grant, key: bytes, founder: Any, follows: Any) -> Opened:
    if not (_is_hex(founder) and _is_hex(follows)):
        raise InvalidEnvelope("a successor's founder and the channel it follows are hex keys")
    if private_channel_id(key, founder) != grant.channel:
        raise InvalidEnvelope("a grant's key does not give its channel's id")
    return Opened(grant.channel, key, (), grant.sender, founder, follows)


def encode_people(announcement: PeopleAnnouncement, box: Identity) -> bytes:
    fields = {
        "v": VERSION,
        "box": announcement.box,
        "name": announcement.name,
        "peer": announcement.peer,
        "ts": announcement.ts,
        "people": [
            {"card": p.card.as_json(), "handle": p.handle, "name": p.name}
            for p in announcement.people
        ],
        "grants": [canonical.loads(grant.raw) for grant in announcement.grants],
    }
    signature = box.sign(_PEOPLE_CONTEXT + canonical.dumps(fields)).hex()
    return canonical.dumps({**fields, "sig": signature})


def decode_people(data: bytes, sender_peer: str) -> PeopleAnnouncement:
    """Check a people announcement: its shape, the box's signature, the libp2p sender, and
    each card's and grant's own signature. InvalidEnvelope names what is wrong."""
    if len(data) > MAX_ANNOUNCEMENT_BYTES:
        raise InvalidEnvelope("people announcement is larger than 1 MiB")
    try:
        fields = canonical.loads(data)
    except InvalidInput as exc:
        raise InvalidEnvelope("people announcement is not canonical JSON") from exc
    if not isinstance(fields, dict) or set(fields) != _PEOPLE_FIELDS:
        raise InvalidEnvelope("people announcement does not have exactly its fields")
    if not _is_version(fields["v"]) or not _is_hex(fields["box"]):
        raise InvalidEnvelope("people announcement has a bad version or box key")
    for name in ("name", "peer"):
        if not isinstance(fields[name], str) or not 0 < len(fields[name]) <= 128:
            raise InvalidEnvelope(f"people announcement field {name!r} must be short text")
    if not canonical.is_int(fields["ts"]) or fields["ts"] < 0:
        raise InvalidEnvelope("people announcement timestamp is not a valid integer")
    if not (isinstance(fields["sig"], str) and _HEX128.fullmatch(fields["sig"])):
        raise InvalidEnvelope("people announcement signature is not 64 bytes of hex")
    unsigned = {name: item for name, item in fields.items() if name != "sig"}
    signed = _PEOPLE_CONTEXT + canonical.dumps(unsigned)
    if not verify_signature(fields["box"], bytes.fromhex(fields["sig"]), signed):
        raise InvalidEnvelope("people announcement signature is not the box's")
    if fields["peer"] != sender_peer:
        raise InvalidEnvelope("people announcement names another peer than the one that sent it")
    people, grants = fields["people"], fields["grants"]
    if not isinstance(people, list) or len(people) > MAX_PEOPLE:
        raise InvalidEnvelope(f"people announcement lists more than {MAX_PEOPLE} people")
    if not isinstance(grants, list) or len(grants) > MAX_GRANTS:
        raise InvalidEnvelope(f"people announcement carries more than {MAX_GRANTS} grants")
    return PeopleAnnouncement(
        fields["box"],
        fields["name"],
        fields["peer"],
        fields["ts"],
        tuple(_person(item) for item in people),
        tuple(check_grant(item) for item in grants),
    )


def split_people(
    people: list[Person], grants: list[Grant]
) -> list[tuple[list[Person], list[Grant]]]:
    """Enough announcements to carry everyone and every grant within the limits."""
    rounds = max(1, -(-len(people) // MAX_PEOPLE), -(-len(grants) // MAX_GRANTS))
    return [
        (
            people[n * MAX_PEOPLE : (n + 1) * MAX_PEOPLE],
            grants[n * MAX_GRANTS : (n + 1) * MAX_GRANTS],
        )
        for n in range(rounds)
    ]


def check_members(members: list[str], starter: str) -> tuple[str, ...]:
    """The members of a new conversation, its starter among them: 2 to 8 distinct keys."""
    everyone = tuple(sorted({*members, starter}))
    if not all(_is_hex(member) for member in everyone):
        raise InvalidInput("members must be people's public keys (64 hex)")
    if not 2 <= len(everyone) <= MAX_MEMBERS:
        raise InvalidInput(f"a conversation has 2 to {MAX_MEMBERS} people, you among them")
    return everyone


def _person(value: Any) -> Person:
    if not isinstance(value, dict) or set(value) != {"card", "handle", "name"}:
        raise InvalidEnvelope("a person in a people announcement is not a card and names")
    name, handle = value["name"], value["handle"]
    if not (isinstance(name, str) and 0 < len(name) <= MAX_DISPLAY_NAME and name.isprintable()):
        raise InvalidEnvelope("a person's name must be 1 to 64 printable characters")
    if not (isinstance(handle, str) and HANDLE.fullmatch(handle)):
        raise InvalidEnvelope("a person's login name is 1 to 32 letters, digits, '_', '.', '-'")
    return Person(check_card(value["card"]), handle, name)


def _check_members(members: tuple[str, ...], sender: str, recipient: str) -> None:
    if not 2 <= len(members) <= MAX_MEMBERS or not all(_is_hex(m) for m in members):
        raise InvalidEnvelope(f"a conversation has 2 to {MAX_MEMBERS} members")
    if sender not in members or recipient not in members or sender == recipient:
        raise InvalidEnvelope("a grant's sender and recipient must be two of its members")


def _grant_key(shared: bytes, eph: str, recipient_seal: str) -> bytes:
    salt = bytes.fromhex(eph) + bytes.fromhex(recipient_seal)
    return HKDF(hashes.SHA256(), KEY_LENGTH, salt, _HKDF_INFO).derive(shared)


def _grant_aad(channel: str, sender: str, recipient: str) -> bytes:
    return f"chatbox-grant\n{channel}\n{sender}\n{recipient}".encode("ascii")


def _sealed_bytes(value: Any) -> bytes:
    try:
        sealed = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
    except (binascii.Error, ValueError) as exc:
        raise InvalidEnvelope("a grant's sealed part is not base64") from exc
    if not 60 <= len(sealed) <= 4096:
        raise InvalidEnvelope("a grant's sealed part has the wrong size")
    return sealed


def _is_hex(value: Any) -> bool:
    return isinstance(value, str) and bool(_HEX64.fullmatch(value))


def _is_version(value: Any) -> bool:
    return canonical.is_int(value) and value == VERSION
