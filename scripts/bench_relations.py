"""Benchmark of replies, reactions, edits and deletes; prints figures, asserts nothing.

    .venv/bin/python scripts/bench_relations.py [--quick]

Two Kubo daemons and two nodes in this process (as bench_sync.py starts them), data on
disk, and:
- folding: a channel of 10,000 messages with 2,000 reactions and 500 edits spread over
  it, all posted through box A; the time of a 50-message page as the API asks for it
  (read, opened, edits and reactions folded in), p50/p95 over 200 pages anywhere in the
  channel, and over the newest page of a second channel whose 50 messages carry all
  2,000 reactions and 500 edits. Target (issue 15): <= 2 ms a page.
- a delete across boxes: 100 times, a message A posted and B holds is deleted on A; the
  time from the delete's start until B shows it deleted (its words gone from B's SQLite),
  polled every 2 ms. Target: p50 <= 100 ms.
- a moderator's delete across boxes: the same with two more boxes on an anvil chain, the
  messages posted by B's person and deleted by the channel's founder on A; B carries it
  out only after folding the channel's moderation (docs/PROTOCOL.md section 5.2).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench_common import percentile_ms, scratch
from bench_sync import Box, warm_up
from eth_account import Account

from chatbox.adapters.chain import ChainClient
from chatbox.daemon import Services
from chatbox.devstack import AnvilNode
from chatbox.errors import NotFound
from chatbox.services.accounts import Member
from chatbox.services.outbox import DEFAULT_OUTBOX_TIMING

EMOJI = ["👍", "🎉", "❤️", "😂", "👀", "🔥"]
FUNDS = hex(10**20)


async def main(quick: bool) -> None:
    with scratch("relations-") as scratch_dir:
        a = Box(Path(scratch_dir), "box-a", DEFAULT_OUTBOX_TIMING)
        b = Box(Path(scratch_dir), "box-b", DEFAULT_OUTBOX_TIMING)
        await a.start()
        await b.start()
        try:
            agent = (await a.node.services.status.status())["ipfs"].get("agent")
            print(f"IPFS: {agent}; {os.cpu_count()} cores; Python {sys.version.split()[0]}")
            scale = 10 if quick else 1
            await folding(a, 10_000 // scale, 2_000 // scale, 500 // scale)
            await delete_across(a, b, 100 // scale)
        finally:
            await b.stop()
            await a.stop()
        await moderated_delete_across(Path(scratch_dir), 100 // scale)


async def moderated_delete_across(scratch_dir: Path, count: int) -> None:
    print(f"\n== a moderator's delete on A taking effect on B, {count} messages")
    anvil = AnvilNode(scratch_dir / "anvil").start()
    boxes: list[Box] = []
    try:
        deployer = ChainClient(anvil.rpc_url, "", Account.create())
        await deployer.rpc("anvil_setBalance", [deployer.address, FUNDS])
        fees = await deployer.fees()
        registry = await deployer.deploy_registry(
            2 * fees.base_fee + fees.priority_fee, fees.priority_fee
        )
        await deployer.close()
        chain = {
            "chain_rpc_url": anvil.rpc_url,
            "chain_id": anvil.chain_id,
            "registry_address": registry,
            "anchor_interval": 3600,
            "anchor_confirmations": 1,
        }
        for name in ("mod-a", "mod-b"):
            box = Box(scratch_dir, name, DEFAULT_OUTBOX_TIMING, **chain)
            await box.start()
            assert box.node.services.chain is not None
            await box.node.services.chain.rpc(
                "anvil_setBalance", [box.node.services.chain.address, FUNDS]
            )
            boxes.append(box)
        a, b = boxes
        channel = await a.node.services.channels.create(a.member, "moderated", "public")
        await _until(lambda: _founded(a, channel.id), 60)
        await _until(lambda: _joined(b, channel.id), 60)
        await b.node.services.peers.add(await a.address())
        await warm_up(a, b, channel.id)
        await _until(lambda: _founded(b, channel.id), 60)  # the founding, synced
        await _time_deletes(
            b, a, b, channel.id, count, lambda cid: a.node.services.moderation.delete(a.member, cid)
        )
    finally:
        for box in reversed(boxes):
            await box.stop()
        anvil.stop()


async def _joined(box: Box, channel_id: str) -> bool:
    """Join the channel once the box reads it in the registry."""
    await box.node.services.directory.refresh()
    if box.node.services.directory.find(channel_id) is None:
        return False
    await box.node.services.channels.join_public(box.member, channel_id)
    return True


async def _founded(box: Box, channel_id: str) -> bool:
    await box.node.services.directory.refresh()
    moderation = await box.node.services.moderation.view(box.member, channel_id)
    return bool(moderation.founders)


async def _until(check: Callable[[], Awaitable[bool]], timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while not await check():
        if time.perf_counter() > deadline:
            raise TimeoutError("the channel's registration or founding did not arrive")
        await asyncio.sleep(0.1)


async def folding(box: Box, messages: int, reactions: int, edits: int) -> None:
    print(f"\n== a 50-message page: {messages:,} messages, {reactions:,} reactions, {edits} edits")
    services, member = box.node.services, box.member
    rng = random.Random(15)
    spread = await services.channels.create(member, "spread", "public")
    started = time.perf_counter()
    cids = [
        (await services.messages.post_text(member, spread.id, f"message {n}")).cid
        for n in range(messages)
    ]
    people = [member] + [
        await services.accounts.register(f"reactor{n}", "bench password") for n in range(19)
    ]
    for person in people[1:]:
        await services.channels.join_public(person, spread.id)
    await _relate(services, people, cids, (reactions, edits))
    await services.outbox.drained()  # pages timed on a box at rest, not while pinning
    print(f"posted and pinned in {time.perf_counter() - started:.0f} s")
    pages = []
    for _ in range(200):
        before = rng.choice(cids[50:])
        started = time.perf_counter()
        page = await services.messages.history(member, spread.id, before, 50)
        pages.append(time.perf_counter() - started)
    folded = sum(len(m.reactions) + (m.edited_ts is not None) for m in page.messages)
    _print("spread over the channel", pages, f"the last page had {folded} folded in")

    crowded = await services.channels.create(member, "crowded", "public")
    few = [
        (await services.messages.post_text(member, crowded.id, f"message {n}")).cid
        for n in range(50)
    ]
    for person in people[1:]:
        await services.channels.join_public(person, crowded.id)
    await _relate(services, people, few, (reactions, edits))
    await services.outbox.drained()
    newest = []
    for _ in range(200):
        started = time.perf_counter()
        page = await services.messages.history(member, crowded.id, None, 50)
        newest.append(time.perf_counter() - started)
    counted = sum(len(keys) for m in page.messages for keys in m.reactions.values())
    _print("all on the newest 50", newest, f"{counted} reactions shown (one per person and emoji)")


async def _relate(
    services: Services, people: list[Member], cids: list[str], counts: tuple[int, int]
) -> None:
    """Reactions from ``people`` (on and off) and edits by the author, spread over ``cids``."""
    reactions, edits = counts
    rng = random.Random(len(cids))
    for _ in range(reactions):
        await services.messages.react(
            rng.choice(people), rng.choice(cids), rng.choice(EMOJI), rng.random() < 0.9
        )
    for n in range(edits):
        await services.messages.edit(people[0], rng.choice(cids), f"edited {n}")


async def delete_across(a: Box, b: Box, count: int) -> None:
    print(f"\n== a delete on A taking effect on B, {count} messages")
    channel = await a.node.services.channels.create(a.member, "bench", "public")
    await b.node.services.channels.create(b.member, "bench", "public")
    await b.node.services.peers.add(await a.address())
    await warm_up(a, b, channel.id)
    await _time_deletes(
        a, a, b, channel.id, count, lambda cid: a.node.services.messages.delete(a.member, cid)
    )


async def _time_deletes(
    poster: Box,
    deleter: Box,
    b: Box,
    channel_id: str,
    count: int,
    delete: Callable[[str], Awaitable[None]],
) -> None:
    """``count`` times: ``poster``'s person posts; once ``deleter`` shows it, ``delete``
    runs there; the time until box ``b`` shows the message deleted."""
    latencies = []
    for number in range(count):
        message = await poster.node.services.messages.post_text(
            poster.member, channel_id, f"gone {number}"
        )
        await _until_shown(deleter, message.cid, False, 20)
        await _until_shown(b, message.cid, False, 20)
        started = time.perf_counter()
        await delete(message.cid)
        if await _until_shown(b, message.cid, True, 10):
            latencies.append(time.perf_counter() - started)
    print(
        f"took effect on B: {len(latencies)}/{count}; p50 {percentile_ms(latencies, count, 50)}, "
        f"p95 {percentile_ms(latencies, count, 95)} (target p50 <= 100 ms)"
    )


async def _shown_on(box: Box, cid: str, deleted: bool) -> bool:
    try:
        message = await box.node.services.messages.find(box.member, cid)
    except NotFound:  # not arrived yet
        return False
    return message.deleted == deleted


async def _until_shown(box: Box, cid: str, deleted: bool, timeout: float) -> bool:
    """Whether B shows ``cid`` (deleted or not, as asked) within ``timeout`` seconds."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if await _shown_on(box, cid, deleted):
            return True
        await asyncio.sleep(0.002)
    return False


def _print(label: str, times: list[float], extra: str) -> None:
    p50 = statistics.median(times) * 1000
    p95 = sorted(times)[int(len(times) * 0.95) - 1] * 1000
    print(f"{label}: p50 {p50:.2f} ms, p95 {p95:.2f} ms over {len(times)} pages; {extra}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of everything")
    asyncio.run(main(parser.parse_args().quick))
