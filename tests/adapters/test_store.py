"""The SQLite store: migrations, group-committed appends, heads and paging."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from chatbox.adapters.account_store import SqliteAccountStore
from chatbox.adapters.channel_store import SqliteChannelStore
from chatbox.adapters.log_store import SqliteLogStore
from chatbox.adapters.schema import migrate, migration_scripts
from chatbox.domain import envelope
from chatbox.domain.identity import Identity
from chatbox.domain.log import next_position
from chatbox.errors import Conflict
from chatbox.ports import ChannelRecord, IndexedEntry

CHANNEL = "aa" * 32


@pytest.fixture
async def store(tmp_path: Path) -> SqliteLogStore:
    opened = SqliteLogStore(tmp_path / "chatbox.db")
    await opened.open()
    await SqliteChannelStore(opened.database).add_channel(
        ChannelRecord(CHANNEL, "general", "public", None)
    )
    yield opened  # type: ignore[misc]
    await opened.close()


def test_migrations_are_idempotent_and_use_wal(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "x.db")
    latest = migration_scripts()[-1][0]
    assert migrate(connection) == latest
    assert migrate(connection) == latest
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"accounts", "channels", "memberships", "entries", "links", "heads"} <= tables


async def test_database_runs_in_wal_with_full_sync(store: SqliteLogStore, tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "chatbox.db")
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    # synchronous is a setting of each connection, not of the file: ask the store's own.
    def synchronous(connection: sqlite3.Connection) -> int:
        return int(connection.execute("PRAGMA synchronous").fetchone()[0])

    full = 2
    assert await store.database.write(synchronous) == full  # every commit syncs the WAL
    assert await store.database.read(synchronous) == full


async def test_concurrent_appends_commit_in_order_and_keep_one_head(store: SqliteLogStore) -> None:
    author, heads = Identity.generate(), []
    writes = []
    for i in range(300):
        clock, prev = next_position(heads)
        entry = envelope.create(author, CHANNEL, clock, prev, i, {"text": f"m{i}"})
        heads = [(entry.cid, entry.clock)]
        writes.append(store.append(IndexedEntry(entry), False))
    assert all(await asyncio.gather(*writes))
    assert await store.heads(CHANNEL) == heads
    assert await store.pending_count() == 300
    page = await store.page(CHANNEL, None, 50)
    assert [record.clock for record in page] == list(range(251, 301))
    older = await store.page(CHANNEL, (page[0].clock, page[0].cid), 50)
    assert [record.clock for record in older] == list(range(201, 251))


async def test_duplicate_append_is_ignored(store: SqliteLogStore) -> None:
    entry = envelope.create(Identity.generate(), CHANNEL, 1, [], 0, {"text": "once"})
    assert await store.append(IndexedEntry(entry), True)
    assert not await store.append(IndexedEntry(entry), True)
    assert await store.message_count(CHANNEL) == 1


async def test_child_before_parent_keeps_the_right_head(store: SqliteLogStore) -> None:
    author = Identity.generate()
    parent = envelope.create(author, CHANNEL, 1, [], 0, {"text": "parent"})
    child = envelope.create(author, CHANNEL, 2, [parent.cid], 0, {"text": "child"})
    await store.append(IndexedEntry(child), True)
    await store.append(IndexedEntry(parent), True)
    assert await store.heads(CHANNEL) == [(child.cid, 2)]


async def test_a_failing_write_spoils_nothing_else_in_its_batch(store: SqliteLogStore) -> None:
    accounts = SqliteAccountStore(store.database)
    first = accounts.add_account("carol", "11" * 32, "22" * 32, b"locked", False)
    clash = accounts.add_account("Carol", "33" * 32, "44" * 32, b"locked", False)
    other = accounts.add_account("dave", "55" * 32, "66" * 32, b"locked", False)
    results = await asyncio.gather(first, clash, other, return_exceptions=True)
    assert isinstance(results[1], Conflict)
    assert await accounts.account_count() == 2
    assert (await accounts.account_by_name("dave")) is not None


async def test_opening_a_session_forgets_expired_ones(
    store: SqliteLogStore, tmp_path: Path
) -> None:
    sessions = SqliteAccountStore(store.database)
    account = await sessions.add_account("ann", "01" * 32, "02" * 32, b"locked", False)
    now = int(time.time())
    await sessions.add_session(b"old" * 8, account.id, b"sealed", now - 1)
    await sessions.add_session(b"new" * 8, account.id, b"sealed", now + 3600)
    assert await sessions.session(b"new" * 8, now) is not None
    with sqlite3.connect(tmp_path / "chatbox.db") as connection:
        kept = [row[0] for row in connection.execute("SELECT token_hash FROM sessions")]
    assert kept == [b"new" * 8]


async def test_the_log_dag_and_envelope_bytes_serve_packs_even_after_pinning(
    store: SqliteLogStore,
) -> None:
    author = Identity.generate()
    root = envelope.create(author, CHANNEL, 1, [], 0, {"text": "root"})
    left = envelope.create(author, CHANNEL, 2, [root.cid], 0, {"text": "left"})
    right = envelope.create(Identity.generate(), CHANNEL, 2, [root.cid], 0, {"text": "right"})
    merge = envelope.create(author, CHANNEL, 3, sorted([left.cid, right.cid]), 0, {"text": "m"})
    for entry in (root, left, right, merge):
        await store.append(IndexedEntry(entry), False)
    await store.mark_stored([root.cid, left.cid])

    assert await store.log_links(CHANNEL) == {
        root.cid: (1, []),
        left.cid: (2, [root.cid]),
        right.cid: (2, [root.cid]),
        merge.cid: (3, sorted([left.cid, right.cid])),
    }
    # Pinned or not, the exact bytes stay: a pack is cut from SQLite, not fetched from IPFS.
    assert await store.envelopes([root.cid, merge.cid, "bafkreiunknown"]) == {
        root.cid: root.raw,
        merge.cid: merge.raw,
    }
    assert await store.held([left.cid, "bafkreiunknown"]) == {left.cid}
    assert await store.dangling(CHANNEL) == []


async def test_dangling_names_the_parents_a_replica_still_lacks(store: SqliteLogStore) -> None:
    author = Identity.generate()
    entries = [envelope.create(author, CHANNEL, 1, [], 0, {"text": "0"})]
    for number in range(1, 4):
        entries.append(
            envelope.create(
                author, CHANNEL, number + 1, [entries[-1].cid], 0, {"text": f"{number}"}
            )
        )
    for entry in (entries[3], entries[1]):  # two children whose parents have not arrived
        await store.append(IndexedEntry(entry), False)
    assert await store.dangling(CHANNEL) == sorted([entries[2].cid, entries[0].cid])
    await store.append(IndexedEntry(entries[2]), False)
    assert await store.dangling(CHANNEL) == [entries[0].cid]
