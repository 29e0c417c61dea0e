"""Channels: names, ids, keys, invites and pubsub topics.

Public channel id: keccak256 of the normalized name (the id the on-chain registry uses).
Private channel id: 32 random bytes, with a 256-bit key that only travels inside invites.
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
_NAME_PATTERN = re.compile(r"[\w][\w .\-]*")
_INVITE_VERSION = 1


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    visibility: Visibility
    key: bytes | None = None  # private channels only

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


def public_channel(name: str) -> Channel:
    normal = normalize_name(name)
    digest = keccak.new(digest_bits=256, data=normal.encode("utf-8")).hexdigest()
    return Channel(id=digest, name=normal, visibility="public")


def new_private_channel(name: str) -> Channel:
    return Channel(
        id=os.urandom(32).hex(),
        name=normalize_name(name),
        visibility="private",
        key=os.urandom(KEY_LENGTH),
    )


def pubsub_topic(channel: Channel) -> str:
    """The topic carrying a channel's announcements; outsiders cannot derive a private one."""
    if channel.key is None:
        return f"chatbox/v1/{channel.id}"
    tag = hmac.new(channel.key, b"chatbox-topic-v1", hashlib.sha256).hexdigest()
    return f"chatbox/v1/p/{tag}"


def encode_invite(channel: Channel) -> str:
    """The URL-fragment token that lets its holder join a private channel."""
    if channel.key is None:
        raise InvalidInput("only private channels have invites")
    payload = {
        "v": _INVITE_VERSION,
        "id": channel.id,
        "name": channel.name,
        "key": channel.key.hex(),
    }
    return base64.urlsafe_b64encode(canonical.dumps(payload)).decode("ascii").rstrip("=")


def decode_invite(token: str) -> Channel:
    """Reverse ``encode_invite``; raise InvalidInput on a damaged token."""
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        payload = canonical.loads(raw)
        channel_id, key = payload["id"], bytes.fromhex(payload["key"])
        name = normalize_name(payload["name"])
        valid = payload["v"] == _INVITE_VERSION and len(key) == KEY_LENGTH
        valid = valid and isinstance(channel_id, str) and len(bytes.fromhex(channel_id)) == 32
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError, InvalidInput) as exc:
        raise InvalidInput("invite is damaged or incomplete") from exc
    if not valid:
        raise InvalidInput("invite is damaged or incomplete")
    return Channel(id=channel_id, name=name, visibility="private", key=key)
