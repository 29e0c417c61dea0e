"""Live streams as Server-Sent Events (text/event-stream): one channel's, or every channel
of the person's at once (what the chat page opens, so unread counts stay live).

SSE rather than a WebSocket: one-way is all a chat view needs, browsers reconnect by
themselves, and it passes any proxy. A comment line every 15 s keeps idle streams open.
"""

from __future__ import annotations

import contextlib
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable

from quart import Blueprint, Response

from chatbox.errors import NotFound
from chatbox.services.accounts import Member
from chatbox.services.live import GrantWaiting, Joined
from chatbox.services.messages import Message
from chatbox.web import session
from chatbox.web.context import (
    WebServices,
    as_shown,
    author_names,
    channel_view,
    message_view,
)

KEEPALIVE_SECONDS = 15.0
# Recent messages' encoded events: each is encoded once and sent to every watcher.
_ENCODED_KEPT = 256


def blueprint(services: WebServices, keepalive: float = KEEPALIVE_SECONDS) -> Blueprint:
    events = Blueprint("events", __name__, url_prefix="/api/v1")
    encode = _encoder(services)

    @events.get("/channels/<channel_id>/events")
    async def channel_events(channel_id: str) -> Response:
        """New messages of a channel as they arrive (``event: message``, JSON data)."""
        member = session.member()
        channel = await services.channels.for_member(member, channel_id)
        await services.accounts.seen(member)
        return _event_response(_stream(services, encode, member, [channel.id], keepalive))

    @events.get("/events")
    async def all_events() -> Response:
        """New messages of every channel the person belongs to (``event: message``)."""
        member = session.member()
        channels = [channel.id for channel in await services.channels.joined(member)]
        await services.accounts.seen(member)
        stream = _stream(services, encode, member, channels, keepalive, follow_joins=True)
        return _event_response(stream)

    return events


def _event_response(stream: AsyncIterator[bytes]) -> Response:
    response = Response(stream, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    response.timeout = None
    return response


async def _stream(
    services: WebServices,
    encode: Callable[[Message], Awaitable[bytes]],
    member: Member,
    channel_ids: list[str],
    keepalive: float,
    follow_joins: bool = False,
) -> AsyncIterator[bytes]:
    yield b"retry: 2000\n: connected\n\n"
    watched = services.live.watch_all(channel_ids, member.account_id, keepalive, follow_joins)
    async for message in watched:
        if message is None:
            yield b": keepalive\n\n"
        elif isinstance(message, GrantWaiting):  # this stream holds the key that opens it
            await services.conversations.accept_waiting(member)
        elif isinstance(message, Joined):
            with contextlib.suppress(NotFound):  # left again before the news was sent
                yield await _joined_event(services, member, message.channel_id)
        else:
            yield await encode(message)


async def _joined_event(services: WebServices, member: Member, channel_id: str) -> bytes:
    """``event: joined``: a channel the person now belongs to without a link (a conversation,
    or the successor of a channel of theirs), as the channel list shows it."""
    channel = await services.channels.for_member(member, channel_id)
    shown, others = await as_shown(services, member, channel)
    data = json.dumps(channel_view(shown, members=others))
    return f"event: joined\ndata: {data}\n\n".encode()


def _encoder(services: WebServices) -> Callable[[Message], Awaitable[bytes]]:
    encoded: OrderedDict[tuple[str, int, bool, int], bytes] = OrderedDict()

    async def encode(message: Message) -> bytes:
        # A message is sent again as it changes (an edit, a reaction, a reply, a delete;
        # a reply deleted changes its thread's count, not the thread's revision).
        version = (message.cid, message.revision, message.deleted, message.replies)
        event = encoded.get(version)
        if event is None:
            data = json.dumps(message_view(message, await author_names(services)))
            event = f"id: {message.cid}\nevent: message\ndata: {data}\n\n".encode()
            encoded[version] = event
            if len(encoded) > _ENCODED_KEPT:
                encoded.popitem(last=False)
        return event

    return encode
