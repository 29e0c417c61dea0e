"""Channels: names, ids, keys, invites and pubsub topics.

Public channel id: keccak256 of the normalized name (the id the on-chain registry uses).
A channel is shown by its title, the name as its creator wrote it ("Year 7 Science"), which
normalizes to its name ("year 7 science").
Private channel id: derived from its random 256-bit key, which only travels inside invites,
so an invite whose id was changed does not match its key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from Crypto.Hash import keccak

from chatbox.domain import canonical
from chatbox.domain.sealing import KEY_LENGTH
from chatbox.errors import InvalidInput

Visibility = Literal["public", "private"]
VISIBILITIES: tuple[Visibility, ...] = ("public", "private")
MAX_NAME_LENGTH = 64
_NAME_PATTERN = re.compile(r"[^\W_][\w .\-]*")
_HEX64 = re.compile(r"[0-9a-f]{64}")
INVITE_VERSION = 3
INVITE_TAG_CONTEXT = b"chatbox-invite-v3\n"


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    visibility: Visibility
    key: bytes | None = None  # private channels only
    title: str = ""  # as its creator wrote it; normalizes to ``name``; "" shows the name
    founder: str | None = None  # private: the key its id binds, who moderates it first
    follows: str | None = None  # private: the channel it continues after a member's removal

    def __post_init__(self) -> None:
        if not self.title:
            object.__setattr__(self, "title", self.name)

    @property
    def is_private(self) -> bool:
        return self.visibility == "private"


def normalize_name(name: str) -> str:
    """NFKC, case-folded, trimmed, inner white space collapsed; letters, digits, ``_ . -``."""
    if not isinstance(name, str):
        raise InvalidInput("channel name must be text")
    normal = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
    if not 1 <= len(normal) <= MAX_NAME_LENGTH:
        raise InvalidInput(f"channel name must be 1 to {MAX_NAME_LENGTH} characters")
    if not _NAME_PATTERN.fullmatch(normal):
        raise InvalidInput(
            "channel name may hold letters, digits, spaces, '_', '.' and '-', "
            "and must start with a letter or digit"
        )
    return normal


def channel_title(name: str) -> str:
    """The name as written, for showing: NFKC, trimmed, inner white space collapsed, case
    kept; refused as ``normalize_name`` refuses it."""
    normalize_name(name)
    return " ".join(unicodedata.normalize("NFKC", name).split())


def public_channel(name: str) -> Channel:
    normal = normalize_name(name)
    digest = keccak.new(digest_bits=256, data=normal.encode("utf-8")).hexdigest()
    return Channel(id=digest, name=normal, visibility="public", title=channel_title(name))


def new_private_channel(name: str, founder: str) -> Channel:
    key = os.urandom(KEY_LENGTH)
    return Channel(
        id=private_channel_id(key, founder),
        name=normalize_name(name),
        visibility="private",
        key=key,
        title=channel_title(name),
        founder=founder,
    )


def successor_channel(channel: Channel, key: bytes | None = None) -> Channel:
    """The private channel that carries ``channel`` on under a new ``key`` (a fresh one
    unless given) once a member is removed: the same name and founder, and it names the
    channel it follows."""
    if channel.key is None or channel.founder is None:
        raise InvalidInput("only a private channel with a founder is continued")
    key = key or os.urandom(KEY_LENGTH)
    return Channel(
        id=private_channel_id(key, channel.founder),
        name=channel.name,
        visibility="private",
        key=key,
        title=channel.title,
        founder=channel.founder,
        follows=channel.id,
    )


def private_channel_id(key: bytes, founder: str) -> str:
    """A private channel's id: bound to its key and its founder's key, so no one can pair
    the key with another id, nor name another founder for it."""
    message = b"chatbox-channel-id-v1\n" + founder.encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def pubsub_topic(channel: Channel) -> str:
    """The topic carrying a channel's announcements; outsiders cannot derive a private one."""
    if channel.key is None:
        return f"chatbox/v1/{channel.id}"
    tag = hmac.new(channel.key, b"chatbox-topic-v1", hashlib.sha256).hexdigest()
    return f"chatbox/v1/p/{tag}"


def encode_invite(channel: Channel) -> str:
    """The URL-fragment token that lets its holder join a private channel.

    The id is derived from the key, so a token with its id changed (a look-alike channel
    planted through an edited link) is refused; the tag, keyed by the channel key,
    refuses a damaged or edited name or id as well.
    """
    if channel.key is None:
        raise InvalidInput("only private channels have invites")
    if channel.founder is None:
        raise InvalidInput("this channel names no founder, so it has no invite")
    payload = {
        "v": INVITE_VERSION,
        "id": channel.id,
        "name": channel.title,
        "founder": channel.founder,
    }
    payload["tag"] = _invite_tag(channel.key, payload).hex()
    payload["key"] = channel.key.hex()
    return base64.urlsafe_b64encode(canonical.dumps(payload)).decode("ascii").rstrip("=")


def decode_invite(token: str) -> Channel:
    """Reverse ``encode_invite``; InvalidInput names what is wrong with a token."""
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        payload = canonical.loads(raw)
        version = payload["v"]
    except (binascii.Error, ValueError, KeyError, TypeError, InvalidInput) as exc:
        raise InvalidInput(_DAMAGED, detail="not an invite token") from exc
    if version != INVITE_VERSION:
        raise InvalidInput(
            "this invite is from another version of chatbox; ask a member for a new link",
            detail=f"invite version {version!r}",
        )
    channel = _invited_channel(payload)
    # One spelling per invite: a token re-encoded differently (other fields, other
    # whitespace, other base64 padding bits) is not the token issued.
    if encode_invite(channel) != token:
        raise InvalidInput(_DAMAGED, detail="the token was changed")
    return channel


_DAMAGED = "this invite link is damaged or was changed; ask a member for a new one"


def _invited_channel(payload: dict[str, object]) -> Channel:
    try:
        channel_id, name, founder = payload["id"], payload["name"], payload["founder"]
        key, tag = bytes.fromhex(payload["key"]), bytes.fromhex(payload["tag"])  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(_DAMAGED, detail="a field is missing or malformed") from exc
    if not (isinstance(channel_id, str) and isinstance(name, str) and len(key) == KEY_LENGTH):
        raise InvalidInput(_DAMAGED, detail="a field is missing or malformed")
    if not (isinstance(founder, str) and _HEX64.fullmatch(founder)):
        raise InvalidInput(_DAMAGED, detail="a field is missing or malformed")
    if channel_id != private_channel_id(key, founder):
        raise InvalidInput(_DAMAGED, detail="the channel id does not belong to its key and founder")
    signed = {"v": INVITE_VERSION, "id": channel_id, "name": name, "founder": founder}
    if not hmac.compare_digest(tag, _invite_tag(key, signed)):
        raise InvalidInput(_DAMAGED, detail="the channel id or name does not match its tag")
    return Channel(
        channel_id, normalize_name(name), "private", key, channel_title(name), founder=founder
    )


def _invite_tag(key: bytes, fields: dict[str, object]) -> bytes:
    return hmac.new(key, INVITE_TAG_CONTEXT + canonical.dumps(fields), hashlib.sha256).digest()[:16]
