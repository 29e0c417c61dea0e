"""What an entry says and what it is, opened: private bodies and content blocks unsealed
with the channel key, and each entry understood as the index keeps it (``IndexedEntry``).

One place for the rule of each body kind (docs/PROTOCOL.md section 5): a message says
``text`` or ``file`` inline (older entries) or through its ``content`` block, which also
tells a reply or an edit; ``react`` and ``delete`` are about another entry; ``mod`` is a
moderation act (services/moderation.py).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from chatbox.domain import canonical, content, envelope
from chatbox.domain.channels import Channel
from chatbox.domain.cid import raw_cid
from chatbox.domain.envelope import Envelope
from chatbox.domain.sealing import open_sealed, seal
from chatbox.domain.search_words import searchable
from chatbox.errors import Forbidden, InvalidEnvelope, InvalidInput
from chatbox.ports import IndexedEntry


def seal_body(channel: Channel, body: dict[str, Any]) -> dict[str, Any]:
    assert channel.key is not None
    sealed = seal(channel.key, canonical.dumps(body), _aad("chatbox-body", channel))
    return {"sealed": base64.b64encode(sealed).decode("ascii")}


def open_body(channel: Channel, body: dict[str, Any]) -> dict[str, Any]:
    """The readable body: private bodies are opened with the channel key and checked."""
    if "sealed" not in body:
        if channel.key is not None:
            raise InvalidEnvelope("a private channel's entry must be sealed")
        return body
    if channel.key is None:
        raise InvalidEnvelope("sealed body in a public channel")
    try:
        sealed = base64.b64decode(body["sealed"], validate=True)
    except ValueError as exc:
        raise InvalidEnvelope("sealed body is not base64") from exc
    try:
        inner = canonical.loads(open_sealed(channel.key, sealed, _aad("chatbox-body", channel)))
    except (Forbidden, InvalidInput) as exc:
        raise InvalidEnvelope("sealed body does not open with the channel key") from exc
    envelope.check_body(inner)
    if "sealed" in inner:
        raise InvalidEnvelope("sealed body inside a sealed body")
    return dict(inner)


def content_block(channel: Channel, body: dict[str, Any]) -> bytes:
    """The content block of a message saying ``body``, as it travels (sealed if private)."""
    raw = content.create(body)
    return raw if channel.key is None else seal(channel.key, raw, _aad("chatbox-content", channel))


def open_content(channel: Channel, block: bytes) -> dict[str, Any]:
    """What a content block says; InvalidEnvelope if it does not open or is malformed."""
    if channel.key is not None:
        try:
            block = open_sealed(channel.key, block, _aad("chatbox-content", channel))
        except Forbidden as exc:
            raise InvalidEnvelope("content does not open with the channel key") from exc
    return content.parse(block)


def understand(channel: Channel, entry: Envelope, block: bytes | None) -> IndexedEntry:
    """What ``entry`` of ``channel`` is, with its content ``block`` if it has one and it
    arrived (``None`` otherwise: a deleted message's block never travels again).

    Raises InvalidEnvelope for what may not be there: another channel's entry, a body that
    does not open, a block that is not the one named, an edit that is not text.
    """
    if entry.channel != channel.id:
        raise InvalidEnvelope("entry belongs to another channel")
    body = open_body(channel, entry.body)
    public = channel.key is None
    if "react" in body:
        react = body["react"]
        return IndexedEntry(entry, "react", react["to"], react["emoji"], react["on"])
    if "delete" in body:
        return IndexedEntry(entry, "delete", body["delete"])
    if "mod" in body:  # whom it is about is in its body: moderation folds it from there
        return IndexedEntry(entry, "mod")
    if "content" not in body:  # an inline text or file: a message
        file_cid = referenced_file(body)
        return IndexedEntry(entry, file_cid=file_cid, words=searchable(body) if public else None)
    reference = body["content"]
    kind, target = _relation(reference)
    if block is None:
        return IndexedEntry(entry, kind, target, content_cid=reference["cid"])
    if raw_cid(block) != reference["cid"]:
        raise InvalidEnvelope("content does not match the CID its entry names")
    said = open_content(channel, block)
    if kind == "edit" and "text" not in said:
        raise InvalidEnvelope("an edit replaces text only")
    return IndexedEntry(
        entry,
        kind,
        target,
        content=block,
        content_cid=reference["cid"],
        file_cid=referenced_file(said),
        words=searchable(said) if public else None,
    )


def said(channel: Channel, record_body: str, block: bytes | None) -> dict[str, Any] | None:
    """What an indexed entry says: its inline body or its content block opened; None when
    its content has not arrived or was deleted.

    Both were checked when the entry was indexed (``understand``), so they are only read
    here: every page shows fifty of them, and checking them again would cost it most of its
    time.
    """
    body = open_body(channel, json.loads(record_body))
    if "content" not in body:
        return body if ("text" in body or "file" in body) else None
    return None if block is None else stored_content(channel, block)


def stored_content(channel: Channel, block: bytes) -> dict[str, Any]:
    """What a content block this box checked when it indexed it says."""
    if channel.key is not None:
        block = open_sealed(channel.key, block, _aad("chatbox-content", channel))
    return dict(json.loads(block)["body"])


def referenced_file(body: dict[str, Any]) -> str | None:
    """The CID of the file a body refers to, if any."""
    file = body.get("file")
    return str(file["cid"]) if isinstance(file, dict) else None


def _relation(reference: dict[str, Any]) -> tuple[str, str | None]:
    if "re" in reference:
        return "reply", reference["re"]
    if "edit" in reference:
        return "edit", reference["edit"]
    return "message", None


def _aad(label: str, channel: Channel) -> bytes:
    return f"{label}\n{channel.id}".encode("ascii")
