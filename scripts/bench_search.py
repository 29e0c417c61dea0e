"""Benchmark of search; prints figures, asserts nothing.

    .venv/bin/python scripts/bench_search.py

Starts a fresh Kubo and a node in this process, data on disk. A public channel gets
100,000 messages of everyday words written straight into the node's SQLite file (the
index triggers fill the full-text index as posting does), and a private channel 2,000
messages posted through the node. Then it times searches as the API runs them, from
the query to the messages loaded: p50 and p95 over 200 queries of one and two words,
with and without the private channel to scan. Target (issue 15): p50 <= 20 ms over
100,000 public messages.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from bench_common import scratch

from chatbox.config import Settings
from chatbox.daemon import DATABASE_FILE, Node
from chatbox.devstack import IpfsDaemon
from chatbox.domain import canonical
from chatbox.domain.cid import raw_cid
from chatbox.domain.search_words import searchable
from chatbox.services.accounts import Member

PUBLIC_MESSAGES = 100_000
PRIVATE_MESSAGES = 2_000
QUERIES = 200
VOCABULARY = (
    "homework science maths art music lunch friday monday trip museum volcano project "
    "football practice choir meeting parents bus late early library book reading test "
    "grades photo garden bake cake birthday holiday rain sunny cold printer laser wood "
    "robot arduino solder workshop tools paint glue paper scissors camp swim tomorrow "
    "today week month thanks please question answer idea plan room key door window"
)
WORDS = VOCABULARY.split()


async def main() -> None:
    with scratch("search-") as scratch_dir:
        daemon = await asyncio.to_thread(IpfsDaemon(Path(scratch_dir) / "ipfs").start)
        node = Node(Settings(data_dir=Path(scratch_dir) / "node", ipfs_api=daemon.api_url))
        await node.start()
        try:
            await run(node)
        finally:
            await node.stop()
            await asyncio.to_thread(daemon.stop)


async def run(node: Node) -> None:
    print(
        f"{os.cpu_count()} cores; Python {sys.version.split()[0]}; SQLite {sqlite3.sqlite_version}"
    )
    services = node.services
    member = await services.accounts.register("bench", "benchmark password")
    public = await services.channels.create(member, "everyone", "public")
    started = time.perf_counter()
    await asyncio.to_thread(
        _seed, node.settings.data_dir / DATABASE_FILE, public.id, member.identity.public_key
    )
    print(f"seeded {PUBLIC_MESSAGES:,} public messages in {time.perf_counter() - started:.0f} s")
    rng = random.Random(7)
    queries = [" ".join(rng.sample(WORDS, rng.choice((1, 2)))) for _ in range(QUERIES)]
    await _report("public only", services.search.search, member, queries)
    await _forgetting(node, member, public.id)

    private = await services.channels.create(member, "staff room", "private")
    started = time.perf_counter()
    for n in range(PRIVATE_MESSAGES):
        await services.messages.post_text(member, private.id, _sentence(rng, n))
    print(f"posted {PRIVATE_MESSAGES:,} private messages in {time.perf_counter() - started:.0f} s")
    await _report("with a private channel to scan", services.search.search, member, queries)


async def _forgetting(node: Node, member: Member, channel_id: str) -> None:
    """A delete's words leave the search index's file only when its segments are merged
    (log_store.gone_from_ipfs): what that costs the writer at this size."""
    message = await node.services.messages.post_text(member, channel_id, "a word to forget")
    await node.services.messages.delete(member, message.cid)
    connection = sqlite3.connect(node.settings.data_dir / DATABASE_FILE, timeout=60)
    try:
        started = time.perf_counter()
        with connection:
            connection.execute("INSERT INTO message_search (message_search) VALUES ('optimize')")
        print(f"merging the search index after a delete: {time.perf_counter() - started:.2f} s")
    finally:
        connection.close()


async def _report(label: str, search: object, member: Member, queries: list[str]) -> None:
    times, found = [], []
    for query in queries:
        started = time.perf_counter()
        results = await search(member, query)  # type: ignore[operator]
        times.append(time.perf_counter() - started)
        found.append(len(results))
    p50 = statistics.median(times) * 1000
    p95 = sorted(times)[int(len(times) * 0.95) - 1] * 1000
    print(
        f"{label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(queries)} searches "
        f"(target p50 <= 20 ms), {statistics.mean(found):.0f} results on average (at most 50)"
    )


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(4, 14))) + f" #{n}"


def _seed(database: Path, channel_id: str, author: str) -> None:
    rng = random.Random(1)
    now = int(time.time() * 1000)
    rows = []
    for n in range(PUBLIC_MESSAGES):
        said = {"text": _sentence(rng, n)}
        body = canonical.dumps(said).decode()
        cid = raw_cid(f"bench entry {n}".encode())
        when = now - (PUBLIC_MESSAGES - n) * 1000
        rows.append((cid, channel_id, n + 2, author, when, body, searchable(said)))
    connection = sqlite3.connect(database, timeout=60)
    try:
        with connection:
            connection.executemany(
                "INSERT INTO entries (cid, channel_id, clock, author, ts, body, words, stored)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                rows,
            )
    finally:
        connection.close()


if __name__ == "__main__":
    asyncio.run(main())
