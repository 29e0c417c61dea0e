"""A box written by someone else, from docs/PROTOCOL.md alone, talks to a running node.

The foreign box is a bare Kubo daemon driven over its RPC API; its entries, invite and
announcements come from ``tests/protocol/independent.py``, which imports nothing of
chatbox. The node must store its messages, public and private, as its own would be.
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

import aiohttp

from chatbox.devstack import IpfsDaemon
from chatbox.services.messages import Message
from tests.conftest import eventually
from tests.protocol import independent
from tests.sync.conftest import Boxes, admin, history, peer_with


class ForeignBox:
    """What another implementation needs of Kubo: its peer id, block/put and pubsub/pub."""

    def __init__(self, session: aiohttp.ClientSession, daemon: IpfsDaemon) -> None:
        self._session = session
        self._base = daemon.api_url.rstrip("/") + "/api/v0/"
        self.seed = os.urandom(32)

    async def call(self, command: str, params: dict[str, str], data: bytes = b"") -> Any:
        form = aiohttp.FormData()
        form.add_field("file", data, filename="data")
        async with self._session.post(self._base + command, params=params, data=form) as reply:
            assert reply.status == 200, await reply.text()
            text = await reply.text()
            return json.loads(text) if text.strip() else {}

    async def peer_id(self) -> str:
        return str((await self.call("id", {}))["ID"])

    async def put_block(self, data: bytes) -> str:
        reply = await self.call("block/put", {"cid-codec": "raw", "mhtype": "sha2-256"}, data)
        return str(reply["Key"])

    async def publish(self, topic: str, data: bytes) -> None:
        encoded = "u" + base64.urlsafe_b64encode(topic.encode()).decode().rstrip("=")
        await self.call("pubsub/pub", {"arg": encoded}, data)

    def heads(self, peer: str, channel: str, entries: list[bytes]) -> dict[str, Any]:
        author = independent.public_key(self.seed)
        return {
            "kind": "heads",
            "name": "elsewhere",
            "peer": peer,
            "ch": channel,
            "ts": time.time_ns() // 1_000_000,
            "cids": [independent.raw_cid(raw) for raw in entries],
            "to": "",
            "entries": [base64.b64encode(raw).decode() for raw in entries],
            "contents": [],
            "people": {author: "visitor"},
        }


async def test_entries_and_announcements_built_from_the_document_are_accepted(
    boxes: Boxes, daemons: list[IpfsDaemon]
) -> None:
    node = await boxes.start("box-a", daemons[0])
    alice = await admin(node, "alice")
    public = await node.services.channels.create(alice, "Maker Space", "public")
    name, channel_id = independent.public_channel_id("Maker Space")
    assert (public.name, public.id) == (name, channel_id)
    key = os.urandom(32)
    private_id = independent.private_channel_id(key, alice.identity.public_key)
    token = independent.invite(private_id, "workshop", key, alice.identity.public_key)
    joined = await node.services.channels.accept_invite(alice, token)
    assert joined.id == private_id
    await peer_with(node, daemons[1])

    async with aiohttp.ClientSession() as session:
        foreign = ForeignBox(session, daemons[1])
        peer = await foreign.peer_id()
        now = time.time_ns() // 1_000_000
        text = independent.envelope(foreign.seed, channel_id, 1, [], now, {"text": "hi from afar"})
        # Kubo names the bytes as the document says a box must.
        assert await foreign.put_block(text) == independent.raw_cid(text)
        aad = b"chatbox-body\n" + private_id.encode()
        inner = independent.canonical({"text": "members only"})
        sealed = independent.seal(key, os.urandom(12), inner, aad)
        body = {"sealed": base64.b64encode(sealed).decode()}
        secret = independent.envelope(foreign.seed, private_id, 1, [], now, body)
        public_heads = independent.announcement(
            foreign.seed, foreign.heads(peer, channel_id, [text])
        )
        private_heads = independent.announcement(
            foreign.seed, foreign.heads(peer, private_id, [secret]), key, os.urandom(12)
        )

        async def arrived(channel: str, want: str) -> bool:
            # Gossipsub needs a moment to graft the new peer into the topic's mesh;
            # the same announcement again is harmless.
            if channel == channel_id:
                await foreign.publish(independent.topic(channel_id, None), public_heads)
            else:
                await foreign.publish(independent.topic(private_id, key), private_heads)
            return [m.text for m in await history(node, alice, channel)] == [want]

        await eventually(lambda: arrived(channel_id, "hi from afar"), what="the public entry")
        await eventually(lambda: arrived(private_id, "members only"), what="the private entry")

    message: Message = (await history(node, alice, channel_id))[0]
    assert message.author == independent.public_key(foreign.seed)
    assert message.cid == independent.raw_cid(text)
    names = await node.services.accounts.names()
    assert names.get(message.author) == "visitor (elsewhere)"  # a person, named with their box
