"""The signed message envelope: one canonical-JSON block per channel-log entry.

Fields (DESIGN.md section 2): ``v`` format version, ``ch`` channel id (hex), ``author``
Ed25519 public key (hex), ``clock`` Lamport clock, ``prev`` sorted CIDs of the heads the
author saw, ``ts`` the author's claimed UTC time in milliseconds, ``body`` and ``sig``,
an Ed25519 signature (hex) over the canonical form without ``sig`` behind a context label.
Parsing accepts only bytes that are exactly the canonical encoding of a valid envelope,
so one envelope has exactly one CID.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chatbox.domain import canonical, moderation
from chatbox.domain.cid import check_raw_cid, raw_cid
from chatbox.domain.identity import Identity, verify_signature
from chatbox.errors import InvalidEnvelope, InvalidInput

VERSION = 1
MAX_ENVELOPE_BYTES = 64 * 1024
MAX_TEXT_CHARS = 8000
MAX_PREV = 64
_SIGNING_CONTEXT = b"chatbox-envelope-v1\n"
_FIELDS = frozenset({"v", "ch", "author", "clock", "prev", "ts", "body", "sig"})
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")
_BODY_KINDS = frozenset({"text", "file", "sealed", "content", "react", "delete", "mod"})
_MESSAGE_KINDS = frozenset({"text", "file"})
MAX_REACTION_CHARS = 16


@dataclass(frozen=True)
class Envelope:
    """A verified entry; ``raw`` are its exact bytes on IPFS and ``cid`` their CID."""

    channel: str
    author: str
    clock: int
    prev: tuple[str, ...]
    ts: int
    body: dict[str, Any]
    sig: str
    raw: bytes
    cid: str

    @property
    def sort_key(self) -> tuple[int, str]:
        """The log's total order: Lamport clock, then CID."""
        return (self.clock, self.cid)


def create(
    author: Identity, channel: str, clock: int, prev: list[str], ts: int, body: dict[str, Any]
) -> Envelope:
    """Sign a new envelope. ``prev`` is sorted here; ``body`` is checked like a received one."""
    unsigned = {
        "v": VERSION,
        "ch": channel,
        "author": author.public_key,
        "clock": clock,
        "prev": sorted(prev),
        "ts": ts,
        "body": body,
    }
    signature = author.sign(_SIGNING_CONTEXT + canonical.dumps(unsigned)).hex()
    raw = canonical.dumps({**unsigned, "sig": signature})
    return parse(raw)


def parse(raw: bytes, expected_cid: str | None = None) -> Envelope:
    """Check and decode received bytes; raise InvalidEnvelope on anything wrong.

    ``expected_cid`` is the CID the bytes were announced or fetched under.
    """
    if len(raw) > MAX_ENVELOPE_BYTES:
        raise InvalidEnvelope("entry is larger than 64 KiB")
    cid = raw_cid(raw)
    if expected_cid is not None and cid != expected_cid:
        raise InvalidEnvelope("entry bytes do not match their CID", detail=expected_cid)
    try:
        fields = canonical.loads(raw)
    except InvalidInput as exc:
        raise InvalidEnvelope("entry is not valid JSON", detail=exc.detail) from exc
    _check_shape(fields)
    if canonical.dumps(fields) != raw:
        raise InvalidEnvelope("entry is not in canonical form")
    unsigned = {key: value for key, value in fields.items() if key != "sig"}
    message = _SIGNING_CONTEXT + canonical.dumps(unsigned)
    if not verify_signature(fields["author"], bytes.fromhex(fields["sig"]), message):
        raise InvalidEnvelope("entry signature is not valid", detail=cid)
    return Envelope(
        channel=fields["ch"],
        author=fields["author"],
        clock=fields["clock"],
        prev=tuple(fields["prev"]),
        ts=fields["ts"],
        body=fields["body"],
        sig=fields["sig"],
        raw=raw,
        cid=cid,
    )


def _check_shape(fields: Any) -> None:
    if not isinstance(fields, dict) or set(fields) != _FIELDS:
        raise InvalidEnvelope("entry does not have exactly the envelope fields")
    if not canonical.is_int(fields["v"]) or fields["v"] != VERSION:
        raise InvalidEnvelope("unsupported entry version", detail=str(fields["v"])[:20])
    for name in ("ch", "author"):
        if not isinstance(fields[name], str) or not _HEX64.fullmatch(fields[name]):
            raise InvalidEnvelope(f"entry field {name!r} is not a 32-byte hex value")
    if not isinstance(fields["sig"], str) or not _HEX128.fullmatch(fields["sig"]):
        raise InvalidEnvelope("entry signature is not 64 bytes of hex")
    if not _is_count(fields["clock"]) or fields["clock"] < 1 or not _is_count(fields["ts"]):
        raise InvalidEnvelope("entry clock or timestamp is not a valid integer")
    _check_prev(fields["prev"], fields["clock"])
    check_body(fields["body"])


def _check_prev(prev: Any, clock: int) -> None:
    if not isinstance(prev, list) or len(prev) > MAX_PREV or prev != sorted(set(prev)):
        raise InvalidEnvelope("entry prev is not a sorted list of distinct CIDs")
    try:
        for cid in prev:
            check_raw_cid(cid)
    except InvalidInput as exc:
        raise InvalidEnvelope("entry prev holds an invalid CID", detail=exc.detail) from exc
    if clock == 1 and prev:
        raise InvalidEnvelope("an entry with parents must have a clock above 1")


def body_text(body: dict[str, Any]) -> str:
    """The canonical text of a body, as the index keeps it."""
    return canonical.dumps(body).decode("utf-8")


def check_body(body: Any) -> None:
    """Accept one body kind: ``text`` or ``file`` (inline), ``content`` (the CID of the
    message's content block, domain/content.py), ``react``, ``delete``, ``mod`` (a
    moderation act, domain/moderation.py), or ``sealed`` (any of those in a private
    channel)."""
    if not isinstance(body, dict) or len(body) != 1 or next(iter(body)) not in _BODY_KINDS:
        raise InvalidEnvelope("entry body must hold exactly one known kind")
    kind, value = next(iter(body.items()))
    if kind in _MESSAGE_KINDS:
        check_message_body(body)
    elif kind == "sealed" and not isinstance(value, str):
        raise InvalidEnvelope("sealed body must be a base64 string")
    elif kind == "content":
        _check_content_reference(value)
    elif kind == "delete":
        _check_cid(value, kind)
    elif kind == "react":
        _check_reaction(value)
    elif kind == "mod":
        moderation.check_act(value)


def check_message_body(body: Any) -> None:
    """Accept what a message says: ``{"text": ...}`` or ``{"file": {...}}``."""
    if not isinstance(body, dict) or len(body) != 1 or next(iter(body)) not in _MESSAGE_KINDS:
        raise InvalidEnvelope("a message body must hold exactly one of text or file")
    kind, value = next(iter(body.items()))
    if kind == "text" and not (isinstance(value, str) and 0 < len(value) <= MAX_TEXT_CHARS):
        raise InvalidEnvelope(f"message text must be 1 to {MAX_TEXT_CHARS} characters")
    if kind == "file":
        _check_file_reference(value)


def is_reaction(value: Any) -> bool:
    """1 to 16 code points without white space or control characters (the zero-width
    joiner of emoji sequences aside): an emoji, or a short word a box has no picture for."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_REACTION_CHARS:
        return False
    return all(char == "\u200d" or (char.isprintable() and not char.isspace()) for char in value)


def _check_content_reference(value: Any) -> None:
    """``{"cid"}``, with ``re`` (a reply: the message it answers) or ``edit`` (new text of
    the message named), never both."""
    if not isinstance(value, dict) or "cid" not in value:
        raise InvalidEnvelope("a content reference needs its cid")
    if set(value) - {"cid", "re", "edit"} or {"re", "edit"} <= set(value):
        raise InvalidEnvelope("a content reference holds cid and at most one of re or edit")
    for key, cid in value.items():
        _check_cid(cid, f"content.{key}")


def _check_reaction(value: Any) -> None:
    if not isinstance(value, dict) or set(value) != {"to", "emoji", "on"}:
        raise InvalidEnvelope("a reaction needs exactly to, emoji and on")
    _check_cid(value["to"], "react")
    if not is_reaction(value["emoji"]):
        raise InvalidEnvelope("a reaction must be 1 to 16 characters without spaces")
    if not isinstance(value["on"], bool):
        raise InvalidEnvelope("a reaction's on must be true or false")


def _check_cid(value: Any, kind: str) -> None:
    try:
        check_raw_cid(value)
    except (InvalidInput, TypeError) as exc:
        raise InvalidEnvelope(f"entry body {kind!r} does not name a CID") from exc


def _check_file_reference(value: Any) -> None:
    if not isinstance(value, dict) or set(value) != {"cid", "name", "mime", "size"}:
        raise InvalidEnvelope("file reference needs exactly cid, name, mime and size")
    if not all(isinstance(value[key], str) and value[key] for key in ("cid", "name", "mime")):
        raise InvalidEnvelope("file reference cid, name and mime must be non-empty text")
    if len(value["name"]) > 255 or len(value["mime"]) > 255 or len(value["cid"]) > 128:
        raise InvalidEnvelope("file reference fields are too long")
    if not _is_count(value["size"]):
        raise InvalidEnvelope("file size must be a non-negative integer")


def _is_count(value: Any) -> bool:
    return canonical.is_int(value) and 0 <= value <= canonical.MAX_SAFE_INTEGER
