"""Benchmark of direct conversations and of a member's removal; prints figures, asserts
nothing.

    .venv/bin/python scripts/bench_direct.py [--quick]

- sealing: a card checked, a grant made and opened (ephemeral X25519, HKDF, AES-GCM, an
  Ed25519 signature each way), p50 over 200; a people announcement of 256 people: its
  bytes and the time to check it (256 card signatures and the box's);
- across boxes: two Kubo daemons and two nodes in this process (as bench_sync.py starts
  them), peered; 20 times, a new person logs in on B (the time until A holds their card),
  then a person on A starts a conversation with them; the time from the start until B's
  person holds it (the grant announced, received,
  opened with their key, the channel joined), polled every 5 ms;
- a removal across boxes: 10 times, a private channel of A's person with two people on
  B; A removes one; the time until the other holds the successor, polled every 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

from bench_common import percentile_ms, scratch
from bench_sync import Box

from chatbox.domain import direct
from chatbox.domain.identity import Identity
from chatbox.domain.sealing import new_key
from chatbox.services.accounts import Member
from chatbox.services.outbox import DEFAULT_OUTBOX_TIMING


def timed(work: Callable[[], object], runs: int = 200) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def sealing() -> None:
    ada, grace, box = Identity.generate(), Identity.generate(), Identity.generate()
    card = direct.make_card(grace)
    members = [ada.public_key, grace.public_key]
    key = new_key()
    grant = direct.make_grant(ada, card, key, members)
    figures = {
        "card checked": lambda: direct.check_card(card.as_json()),
        "grant made": lambda: direct.make_grant(ada, card, key, members),
        "grant opened": lambda: direct.open_grant(grant, grace),
    }
    for what, work in figures.items():
        print(f"{what:<28} p50 {timed(work):.3f} ms")
    people = tuple(
        direct.Person(direct.make_card(Identity.generate()), f"person{n}", f"person {n}")
        for n in range(256)
    )
    announcement = direct.PeopleAnnouncement(
        box.public_key, "school", "12D3KooWPeer", 1, people, ()
    )
    data = direct.encode_people(announcement, box)
    checked = timed(lambda: direct.decode_people(data, "12D3KooWPeer"), runs=20)
    print(f"people announcement, 256     {len(data):,} bytes, checked in p50 {checked:.1f} ms")


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> float:
    started = time.perf_counter()
    while not await check():
        if time.perf_counter() - started > timeout:
            return float("nan")
        await asyncio.sleep(0.005)
    return time.perf_counter() - started


async def logged_in(box: Box, name: str) -> Member:
    member = await box.node.services.accounts.register(name, "bench password")
    await box.node.services.sessions.open(member)
    return member


async def across(a: Box, b: Box, runs: int) -> None:
    alice = a.member
    await a.node.services.sessions.open(alice)
    delivered, introduced = [], []
    for n in range(runs):
        bob = await logged_in(b, f"bob{n}")
        learned = await until(partial(_carded, a, bob))
        if not math.isnan(learned):
            introduced.append(learned)
        started = time.perf_counter()
        started_with = await a.node.services.conversations.start(alice, [bob.identity.public_key])

        async def holds(bob: Member = bob, channel_id: str = started_with.channel.id) -> bool:
            await b.node.services.conversations.accept_waiting(bob)
            return channel_id in {c.id for c in await b.node.services.channels.joined(bob)}

        if not math.isnan(await until(holds)):  # a conversation that never came counts as never
            delivered.append(time.perf_counter() - started)
    print(
        f"a new person's card on A     p50 {percentile_ms(introduced, runs, 50)},"
        f" p95 {percentile_ms(introduced, runs, 95)} ({len(introduced)}/{runs})"
    )
    print(
        f"conversation reaching B      p50 {percentile_ms(delivered, runs, 50)},"
        f" p95 {percentile_ms(delivered, runs, 95)} ({len(delivered)}/{runs})"
    )


async def removal(a: Box, b: Box, runs: int) -> None:
    alice, times = a.member, []
    for n in range(runs):
        stays, leaves = await logged_in(b, f"stays{n}"), await logged_in(b, f"leaves{n}")
        channel = await a.node.services.channels.create(alice, f"staff {n}", "private")
        token = await a.node.services.channels.invite(alice, channel.id)
        for member in (stays, leaves):
            await b.node.services.channels.accept_invite(member, token)
        keys = {stays.identity.public_key, leaves.identity.public_key}

        async def joined(channel_id: str = channel.id, keys: set[str] = keys) -> bool:
            view = await a.node.services.moderation.view(alice, channel_id)
            return keys <= set(view.members)

        await until(joined)
        started = time.perf_counter()
        successor = await a.node.services.moderation.remove(
            alice, channel.id, leaves.identity.public_key
        )

        async def continued(stays: Member = stays, channel_id: str = successor.id) -> bool:
            await b.node.services.conversations.accept_waiting(stays)
            return channel_id in {c.id for c in await b.node.services.channels.joined(stays)}

        if not math.isnan(await until(continued)):
            times.append(time.perf_counter() - started)
    print(
        f"successor reaching B         p50 {percentile_ms(times, runs, 50)},"
        f" p95 {percentile_ms(times, runs, 95)} ({len(times)}/{runs})"
    )


async def _carded(box: Box, person: Member) -> bool:
    return person.identity.public_key in await box.node.services.conversations.carded()


async def main(quick: bool) -> None:
    sealing()
    with scratch("direct-") as scratch_dir:
        root = Path(scratch_dir)
        a, b = Box(root, "box-a", DEFAULT_OUTBOX_TIMING), Box(root, "box-b", DEFAULT_OUTBOX_TIMING)
        await a.start()
        await b.start()
        try:
            await b.node.services.peers.add(await a.address())
            await across(a, b, 5 if quick else 20)
            await removal(a, b, 3 if quick else 10)
        finally:
            await a.stop()
            await b.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    asyncio.run(main(parser.parse_args().quick))
    sys.exit(0)
