"""The IPFS adapter against a real Kubo daemon."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator

import aiohttp
import pytest

from chatbox.adapters.ipfs import IpfsClient
from chatbox.devstack import IpfsDaemon, free_port
from chatbox.domain import envelope
from chatbox.domain.cid import raw_cid
from chatbox.domain.identity import Identity
from chatbox.errors import IpfsUnavailable, NotFound
from tests.domain.test_cid import HELLO_CID


async def _chunks(data: bytes, size: int = 50_000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_local_cid_equals_the_daemons_for_100_random_envelopes(ipfs: IpfsClient) -> None:
    rng = random.Random(2)
    authors = [Identity.generate() for _ in range(5)]
    for i in range(100):
        text = "".join(rng.choice("abc xyz éü中文🙂<>&\"'\\") for _ in range(rng.randint(1, 300)))
        entry = envelope.create(
            rng.choice(authors),
            os.urandom(32).hex(),
            i + 1,
            [],
            rng.randint(0, 2**41),
            {"text": text},
        )
        # put_block itself refuses a daemon CID that differs from the local one.
        assert await ipfs.put_block(entry.raw) == entry.cid
        assert await ipfs.get_block(entry.cid) == entry.raw
        assert await ipfs.is_pinned(entry.cid)


async def test_a_batch_of_blocks_lands_pinned_in_one_import(ipfs: IpfsClient) -> None:
    blocks = [os.urandom(random.randint(1, 3000)) for _ in range(300)]
    root = await ipfs.put_blocks(blocks)
    assert root.startswith("bafyrei")  # a DAG-CBOR root, pinned recursively
    assert await ipfs.is_pinned(root)
    for block in blocks[::37]:
        assert await ipfs.is_pinned(raw_cid(block))
        assert await ipfs.get_block(raw_cid(block)) == block
    # Importing the same batch again changes nothing and is not an error.
    assert await ipfs.put_blocks(blocks) == root


async def test_pinned_among_names_every_block_under_a_pinned_root_and_nothing_else(
    ipfs: IpfsClient,
) -> None:
    blocks = [os.urandom(64) for _ in range(50)]
    await ipfs.put_blocks(blocks)
    never_stored = raw_cid(os.urandom(64))
    cids = [raw_cid(block) for block in blocks]
    assert await ipfs.pinned_among([*cids, never_stored]) == set(cids)


async def test_streamed_add_and_cat_round_trip(ipfs: IpfsClient) -> None:
    data = os.urandom(1_500_000)
    added = await ipfs.add_stream(_chunks(data), "random.bin")
    assert added.cid.startswith("bafy")
    assert await ipfs.is_pinned(added.cid)
    assert b"".join([chunk async for chunk in ipfs.cat(added.cid)]) == data


async def test_unknown_block_is_not_found_and_unpinned(ipfs: IpfsClient) -> None:
    entry = envelope.create(Identity.generate(), "ee" * 32, 1, [], 0, {"text": "never stored"})
    assert not await ipfs.is_pinned(entry.cid)
    with pytest.raises((NotFound, IpfsUnavailable)):
        await ipfs.get_block(entry.cid, timeout=1.0)


async def test_identity_and_repo_stats(ipfs: IpfsClient) -> None:
    node = await ipfs.identity()
    stats = await ipfs.repo_stats()
    assert node.peer_id.startswith(("12D3", "Qm"))
    assert all("127.0.0.1" in address for address in node.addresses)
    assert stats.repo_size > 0 and stats.storage_max > 0
    # A batch adds one recursive pin, however many blocks it holds.
    await ipfs.put_blocks([os.urandom(32) for _ in range(20)])
    assert (await ipfs.repo_stats()).pins == stats.pins + 1


async def test_pubsub_carries_binary_data_between_two_daemons(
    ipfs: IpfsClient, second_ipfs_daemon: IpfsDaemon
) -> None:
    topic, received = f"chatbox/test/{os.urandom(4).hex()}", asyncio.Queue[bytes]()
    async with aiohttp.ClientSession() as session:
        other = IpfsClient(session, second_ipfs_daemon.api_url)
        peer = await other.identity()
        await ipfs.swarm_connect(peer.addresses[0])

        async def listen() -> None:
            async for _, data in other.subscribe(topic):
                await received.put(data)

        listener = asyncio.create_task(listen())
        try:
            payload = b"\x00binary \xff payload"
            for _ in range(100):  # subscriptions take a moment to spread between peers
                await ipfs.publish(topic, payload)
                try:
                    assert await asyncio.wait_for(received.get(), 0.2) == payload
                    break
                except TimeoutError:
                    continue
            else:
                pytest.fail("no pubsub message crossed between the daemons")
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)


async def test_publishing_with_nobody_listening_is_not_an_error(ipfs: IpfsClient) -> None:
    await ipfs.publish(f"chatbox/test/{os.urandom(4).hex()}", b"into the void")


async def test_daemon_down_is_a_clear_error_not_a_hang() -> None:
    async with aiohttp.ClientSession() as session:
        client = IpfsClient(session, f"http://127.0.0.1:{free_port()}", timeout=2.0)
        with pytest.raises(IpfsUnavailable, match="cannot reach the IPFS daemon"):
            await client.put_block(b"anything")
        with pytest.raises(IpfsUnavailable):
            await client.identity()
        with pytest.raises(IpfsUnavailable):
            [chunk async for chunk in client.cat(HELLO_CID)]
