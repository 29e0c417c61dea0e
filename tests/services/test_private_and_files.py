"""Private channels and files: sealed on IPFS, readable by members, bounded in size."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import aiohttp
import pytest

from chatbox.adapters.ipfs import IpfsClient
from chatbox.daemon import Node
from chatbox.errors import Forbidden, InvalidInput, NotFound, TooLarge
from chatbox.services.accounts import Member

# The node's own code must not block the event loop while it serves (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("no_blocking")

SECRET = "the spare key is under the blue flowerpot"


async def _chunks(data: bytes, size: int = 64_000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _download(node: Node, member: Member, cid: str) -> bytes:
    download = await node.services.files.open_file(member, cid)
    return b"".join([chunk async for chunk in download.chunks])


async def _all_pins(api_url: str) -> set[str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{api_url}/api/v0/pin/ls") as response,
    ):
        return set((await response.json())["Keys"])


async def test_private_channel_bytes_on_ipfs_hold_no_plaintext(
    node: Node, alice: Member, bob: Member, ipfs: IpfsClient
) -> None:
    channel = await node.services.channels.create(alice, "family", "private")
    message = await node.services.messages.post_text(alice, channel.id, SECRET)
    photo = os.urandom(20_000) + SECRET.encode() * 50
    upload = await node.services.files.post_file(
        alice, channel.id, "plan.txt", "text/plain", _chunks(photo)
    )
    await node.services.outbox.drained()

    raw = await ipfs.get_block(message.cid)
    assert SECRET.encode() not in raw and b"spare key" not in raw
    assert upload.file is not None
    stored_file = b"".join([chunk async for chunk in ipfs.cat(upload.file["cid"])])
    assert SECRET.encode() not in stored_file and len(stored_file) > len(photo)
    entry = await ipfs.get_block(upload.cid)
    assert b"plan.txt" not in entry

    assert (await node.services.messages.history(alice, channel.id)).messages[0].text == SECRET
    assert await _download(node, alice, upload.file["cid"]) == photo


async def test_invite_lets_a_second_member_read_and_write(
    node: Node, alice: Member, bob: Member
) -> None:
    channel = await node.services.channels.create(alice, "family", "private")
    await node.services.messages.post_text(alice, channel.id, SECRET)
    with pytest.raises(NotFound):
        await node.services.messages.history(bob, channel.id)
    with pytest.raises(NotFound):
        await node.services.channels.invite(bob, channel.id)
    with pytest.raises(Forbidden):
        await node.services.channels.join_public(bob, channel.id)

    token = await node.services.channels.invite(alice, channel.id)
    joined = await node.services.channels.accept_invite(bob, token)
    assert joined.id == channel.id
    await node.services.messages.post_text(bob, channel.id, "got it")
    page = await node.services.messages.history(alice, channel.id)
    assert [m.text for m in page.messages] == [SECRET, "got it"]
    assert page.messages[1].author == bob.identity.public_key
    with pytest.raises(InvalidInput):
        await node.services.channels.accept_invite(bob, token[:-8])


async def test_oversized_upload_is_refused_and_leaves_nothing(
    node: Node, alice: Member, ipfs_daemon
) -> None:
    channel = await node.services.channels.create(alice, "uploads", "public")
    limit = node.services.files.upload_limit
    pins_before = await _all_pins(ipfs_daemon.api_url)
    with pytest.raises(TooLarge):
        await node.services.files.post_file(
            alice, channel.id, "big.bin", None, _chunks(os.urandom(limit + 1))
        )
    assert await _all_pins(ipfs_daemon.api_url) == pins_before
    assert (await node.services.messages.history(alice, channel.id)).messages == []


async def test_public_file_round_trip_with_safe_metadata(
    node: Node, alice: Member, bob: Member
) -> None:
    channel = await node.services.channels.create(alice, "pictures", "public")
    data = os.urandom(300_000)
    message = await node.services.files.post_file(
        alice, channel.id, "../../etc/passwd\x00.png", "Image/PNG", _chunks(data)
    )
    assert message.file is not None
    assert message.file["name"] == "passwd_.png"
    assert message.file["mime"] == "image/png" and message.file["size"] == len(data)
    assert await _download(node, alice, message.file["cid"]) == data
    with pytest.raises(NotFound):
        await node.services.files.open_file(bob, message.file["cid"])
