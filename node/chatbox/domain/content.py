"""A message's content block: what it says, kept apart from its signed envelope.

An envelope of kind ``content`` names this block by its CID instead of holding the text,
so a deleted message's text and file reference can leave every box (the block is dropped)
while the envelope stays: its signature, its place in the log and every anchor proof over
it still verify. The random ``salt`` makes the CID say nothing about the text: without it,
whoever kept the envelope of a deleted message could confirm a guess of what it said.

Fields: ``v`` 1, ``salt`` 32 random bytes (hex) and ``body``, a text or file body. What
the message is (a reply, an edit) is said by its envelope, which stays. In a private
channel the block is sealed (the service's job); this module sees only the opened bytes.
"""

from __future__ import annotations

import os
import re
from typing import Any

from chatbox.domain import canonical
from chatbox.domain.envelope import check_message_body
from chatbox.errors import InvalidEnvelope, InvalidInput

VERSION = 1
MAX_CONTENT_BYTES = 64 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")


def create(body: dict[str, Any], salt: bytes | None = None) -> bytes:
    """The canonical block of ``body`` with a fresh salt (or ``salt``, for vectors)."""
    salt_hex = (salt if salt is not None else os.urandom(32)).hex()
    raw = canonical.dumps({"v": VERSION, "salt": salt_hex, "body": body})
    parse(raw)  # what is sent is what a receiver accepts
    return raw


def parse(raw: bytes) -> dict[str, Any]:
    """Check an opened content block; returns its body. InvalidEnvelope on anything wrong."""
    if len(raw) > MAX_CONTENT_BYTES:
        raise InvalidEnvelope("content is larger than 64 KiB")
    try:
        fields = canonical.loads(raw)
    except InvalidInput as exc:
        raise InvalidEnvelope("content is not valid JSON", detail=exc.detail) from exc
    if not isinstance(fields, dict) or set(fields) != {"v", "salt", "body"}:
        raise InvalidEnvelope("content does not have exactly its fields")
    if canonical.dumps(fields) != raw:
        raise InvalidEnvelope("content is not in canonical form")
    if not canonical.is_int(fields["v"]) or fields["v"] != VERSION:
        raise InvalidEnvelope("unsupported content version")
    if not isinstance(fields["salt"], str) or not _HEX64.fullmatch(fields["salt"]):
        raise InvalidEnvelope("content salt is not 32 bytes of hex")
    check_message_body(fields["body"])
    return dict(fields["body"])
