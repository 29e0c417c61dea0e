"""The node's SQLite log, channels and accounts: the ``EntryLog``, ``LogReplica``, ``PinQueue``,
``AccountBook`` and ``ChannelBook`` ports (``chatbox.ports``).

Heads are kept incrementally with the log's own rule (``domain.log.heads_after``), so the
index answers "what are the heads" without walking history.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path

from chatbox.adapters.schema import migrate
from chatbox.adapters.sqlite import Database, execute, fetch_all, fetch_count, fetch_one
from chatbox.domain.envelope import Envelope
from chatbox.domain.log import heads_after
from chatbox.errors import Conflict
from chatbox.ports import AccountRecord, ChannelRecord, EntryRecord

# ``anchored``: a confirmed anchoring batch covers the entry.
_ENTRY_COLUMNS = (
    "cid, channel_id, clock, author, ts, body, stored, EXISTS (SELECT 1 FROM anchor_coverage c"
    " JOIN anchor_batches b ON b.id = c.batch_id JOIN chain_txs t ON t.id = b.tx_id"
    " WHERE c.cid = entries.cid AND t.state = 'confirmed') AS anchored"
)


class SqliteStore:
    """Accounts, channels, memberships, the message index and heads in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self._db = Database(path)

    @property
    def database(self) -> Database:
        """The open database, shared with the other stores of this file."""
        return self._db

    async def open(self) -> None:
        await self._db.open(migrate)

    async def close(self) -> None:
        await self._db.close()

    async def check_writable(self) -> None:
        await self._db.check_writable()

    async def add_account(
        self,
        name: str,
        public_key: str,
        sealing_public_key: str,
        locked_keys: bytes,
        is_admin: bool,
    ) -> AccountRecord:
        def insert(connection: sqlite3.Connection) -> int:
            try:
                cursor = connection.execute(
                    "INSERT INTO accounts (name, public_key, sealing_public_key, locked_keys,"
                    " is_admin, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, public_key, sealing_public_key, locked_keys, int(is_admin), _now()),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict("an account with that name already exists") from exc
            return int(cursor.lastrowid or 0)

        account_id = await self._db.write(insert)
        return AccountRecord(
            account_id, name, public_key, sealing_public_key, locked_keys, is_admin
        )

    async def account_by_name(self, name: str) -> AccountRecord | None:
        row = await self._db.read(fetch_one, "SELECT * FROM accounts WHERE name = ?", (name,))
        return None if row is None else _account(row)

    async def account_by_id(self, account_id: int) -> AccountRecord | None:
        row = await self._db.read(fetch_one, "SELECT * FROM accounts WHERE id = ?", (account_id,))
        return None if row is None else _account(row)

    async def accounts(self) -> list[AccountRecord]:
        rows = await self._db.read(fetch_all, "SELECT * FROM accounts ORDER BY id", ())
        return [_account(row) for row in rows]

    async def memberships(self) -> list[tuple[int, str]]:
        """(account id, channel id) of every membership."""
        rows = await self._db.read(
            fetch_all, "SELECT account_id, channel_id FROM memberships ORDER BY rowid", ()
        )
        return [(row["account_id"], row["channel_id"]) for row in rows]

    async def account_count(self) -> int:
        return await self._db.read(fetch_count, "SELECT count(*) FROM accounts", ())

    async def add_channel(self, record: ChannelRecord) -> bool:
        """Record a channel; False if it was already known."""

        def insert(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO channels (id, name, visibility, sealed_key, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (record.id, record.name, record.visibility, record.sealed_key, _now()),
            )
            return cursor.rowcount == 1

        return await self._db.write(insert)

    async def channel(self, channel_id: str) -> ChannelRecord | None:
        row = await self._db.read(fetch_one, "SELECT * FROM channels WHERE id = ?", (channel_id,))
        return None if row is None else _channel(row)

    async def join(self, account_id: int, channel_id: str) -> None:
        await self._db.write(
            execute,
            "INSERT OR IGNORE INTO memberships (account_id, channel_id,"
            " joined_at) VALUES (?, ?, ?)",
            (account_id, channel_id, _now()),
        )

    async def is_member(self, account_id: int, channel_id: str) -> bool:
        row = await self._db.read(
            fetch_one,
            "SELECT 1 FROM memberships WHERE account_id = ? AND channel_id = ?",
            (account_id, channel_id),
        )
        return row is not None

    async def channels_of(self, account_id: int) -> list[ChannelRecord]:
        rows = await self._db.read(
            fetch_all,
            "SELECT c.* FROM channels c JOIN memberships m ON m.channel_id = c.id"
            " WHERE m.account_id = ? ORDER BY c.name, c.id",
            (account_id,),
        )
        return [_channel(row) for row in rows]

    async def all_channels(self) -> list[ChannelRecord]:
        rows = await self._db.read(fetch_all, "SELECT * FROM channels ORDER BY name, id", ())
        return [_channel(row) for row in rows]

    def append(
        self, entry: Envelope, body: str, file_cid: str | None, stored: bool
    ) -> Awaitable[bool]:
        """Index one verified entry and move the heads; False if it was already indexed.

        The write is queued at once, so appends commit in call order. ``stored=False``
        puts the entry in the outbox until IPFS has it pinned. The envelope bytes are
        kept either way: packs for peers are read from here, not from IPFS.
        """
        return self._db.submit(_insert_entry, entry, body, file_cid, stored)

    async def heads(self, channel_id: str) -> list[tuple[str, int]]:
        rows = await self._db.read(
            fetch_all,
            "SELECT cid, clock FROM heads WHERE channel_id = ? ORDER BY cid",
            (channel_id,),
        )
        return [(row["cid"], row["clock"]) for row in rows]

    async def page(
        self, channel_id: str, before: tuple[int, str] | None, limit: int
    ) -> list[EntryRecord]:
        """Up to ``limit`` entries preceding ``before`` in log order, oldest first."""
        # Past the largest clock SQLite holds, and after every CID, when no cursor is given.
        clock, cid = before if before is not None else (2**63 - 1, "")
        rows = await self._db.read(
            fetch_all,
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE channel_id = ?"
            " AND (clock < ? OR (clock = ? AND cid < ?)) ORDER BY clock DESC, cid DESC LIMIT ?",
            (channel_id, clock, clock, cid, limit),
        )
        return [_entry(row) for row in reversed(rows)]

    async def entry(self, cid: str) -> EntryRecord | None:
        row = await self._db.read(
            fetch_one, f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE cid = ?", (cid,)
        )
        return None if row is None else _entry(row)

    async def file_entries(self, file_cid: str) -> list[EntryRecord]:
        """The entries that refer to a file, oldest first."""
        rows = await self._db.read(
            fetch_all,
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE file_cid = ? ORDER BY clock, cid",
            (file_cid,),
        )
        return [_entry(row) for row in rows]

    async def outbox(self, limit: int) -> list[tuple[str, bytes]]:
        """Entries not yet pinned on IPFS, oldest first."""
        rows = await self._db.read(
            fetch_all,
            "SELECT cid, raw FROM entries WHERE stored = 0 ORDER BY rowid LIMIT ?",
            (limit,),
        )
        return [(row["cid"], bytes(row["raw"])) for row in rows]

    async def mark_stored(self, cids: list[str]) -> None:
        """IPFS holds these pinned now: they leave the outbox (their bytes stay for peers)."""
        await self._db.write(_mark_stored, cids)

    async def pending_count(self) -> int:
        return await self._db.read(fetch_count, "SELECT count(*) FROM entries WHERE stored = 0", ())

    async def log_links(self, channel_id: str) -> dict[str, tuple[int, list[str]]]:
        """Every entry of a channel as cid -> (clock, prev): the DAG a pack is cut from."""

        def read(connection: sqlite3.Connection) -> dict[str, tuple[int, list[str]]]:
            # One statement, so one snapshot: appends may commit while it runs.
            log: dict[str, tuple[int, list[str]]] = {}
            for cid, clock, parent in connection.execute(
                "SELECT e.cid, e.clock, l.parent FROM entries e"
                " LEFT JOIN links l ON l.child = e.cid WHERE e.channel_id = ?",
                (channel_id,),
            ):
                parents = log.setdefault(cid, (clock, []))[1]
                if parent is not None:
                    parents.append(parent)
            return log

        return await self._db.read(read)

    async def envelopes(self, cids: list[str]) -> dict[str, bytes]:
        """The stored envelope bytes of those ``cids`` that have them."""

        def read(connection: sqlite3.Connection) -> dict[str, bytes]:
            sql = "SELECT cid, raw FROM entries WHERE raw IS NOT NULL AND cid IN ({})"
            return {cid: bytes(raw) for cid, raw in _rows_for(connection, sql, cids)}

        return await self._db.read(read)

    async def held(self, cids: list[str]) -> set[str]:
        """Those of ``cids`` the index holds."""

        def read(connection: sqlite3.Connection) -> set[str]:
            sql = "SELECT cid FROM entries WHERE cid IN ({})"
            return {row[0] for row in _rows_for(connection, sql, cids)}

        return await self._db.read(read)

    async def dangling(self, channel_id: str) -> list[str]:
        """Parents named by a channel's entries that the index does not hold yet."""
        rows = await self._db.read(
            fetch_all,
            "SELECT DISTINCT l.parent FROM entries e JOIN links l ON l.child = e.cid"
            " WHERE e.channel_id = ?"
            " AND NOT EXISTS (SELECT 1 FROM entries p WHERE p.cid = l.parent) ORDER BY l.parent",
            (channel_id,),
        )
        return [row[0] for row in rows]

    async def entry_count(self, channel_id: str) -> int:
        return await self._db.read(
            fetch_count, "SELECT count(*) FROM entries WHERE channel_id = ?", (channel_id,)
        )

    async def replace_index(
        self, channel_id: str, entries: list[tuple[Envelope, str, str | None]]
    ) -> None:
        """Rebuild one channel's index from entries fetched from IPFS, in one transaction."""

        def rebuild(connection: sqlite3.Connection) -> None:
            connection.execute(
                "DELETE FROM links WHERE child IN (SELECT cid FROM entries WHERE channel_id = ?)",
                (channel_id,),
            )
            connection.execute("DELETE FROM entries WHERE channel_id = ?", (channel_id,))
            connection.execute("DELETE FROM heads WHERE channel_id = ?", (channel_id,))
            for entry, body, file_cid in entries:
                _insert_entry(connection, entry, body, file_cid, True)

        await self._db.write(rebuild)


# SQLite's default limit of host parameters in one statement is 999 on older builds.
_SQL_BATCH = 500


def _rows_for(connection: sqlite3.Connection, sql: str, values: list[str]) -> Iterator[sqlite3.Row]:
    """Rows of ``sql`` (its ``IN ({})`` filled with ``values``), a bounded chunk at a time."""
    for start in range(0, len(values), _SQL_BATCH):
        chunk = values[start : start + _SQL_BATCH]
        yield from connection.execute(sql.format(",".join("?" * len(chunk))), chunk)


def _insert_entry(
    connection: sqlite3.Connection, entry: Envelope, body: str, file_cid: str | None, stored: bool
) -> bool:
    cursor = connection.execute(
        "INSERT OR IGNORE INTO entries (cid, channel_id, clock, author, ts, body, file_cid,"
        " raw, stored) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry.cid,
            entry.channel,
            entry.clock,
            entry.author,
            entry.ts,
            body,
            file_cid,
            entry.raw,
            int(stored),
        ),
    )
    if cursor.rowcount == 0:
        return False
    referenced = (
        connection.execute("SELECT 1 FROM links WHERE parent = ? LIMIT 1", (entry.cid,)).fetchone()
        is not None
    )
    connection.executemany(
        "INSERT OR IGNORE INTO links (parent, child) VALUES (?, ?)",
        [(parent, entry.cid) for parent in entry.prev],
    )
    heads = {
        row[0]
        for row in connection.execute(
            "SELECT cid FROM heads WHERE channel_id = ?", (entry.channel,)
        )
    }
    updated = heads_after(heads, entry, referenced)
    connection.executemany(
        "DELETE FROM heads WHERE channel_id = ? AND cid = ?",
        [(entry.channel, cid) for cid in heads - updated],
    )
    if entry.cid in updated:
        connection.execute(
            "INSERT INTO heads (channel_id, cid, clock) VALUES (?, ?, ?)",
            (entry.channel, entry.cid, entry.clock),
        )
    return True


def _mark_stored(connection: sqlite3.Connection, cids: list[str]) -> None:
    connection.executemany("UPDATE entries SET stored = 1 WHERE cid = ?", [(cid,) for cid in cids])


def _account(row: sqlite3.Row) -> AccountRecord:
    return AccountRecord(
        row["id"],
        row["name"],
        row["public_key"],
        row["sealing_public_key"],
        bytes(row["locked_keys"]),
        bool(row["is_admin"]),
    )


def _channel(row: sqlite3.Row) -> ChannelRecord:
    key = row["sealed_key"]
    return ChannelRecord(
        row["id"], row["name"], row["visibility"], None if key is None else bytes(key)
    )


def _entry(row: sqlite3.Row) -> EntryRecord:
    return EntryRecord(
        row["cid"],
        row["channel_id"],
        row["clock"],
        row["author"],
        row["ts"],
        row["body"],
        bool(row["stored"]),
        bool(row["anchored"]),
    )


def _now() -> int:
    return int(time.time())
