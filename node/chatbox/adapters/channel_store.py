"""Channels and memberships in the node's SQLite file, with each member's read mark.

Shares the ``Database`` of ``SqliteLogStore`` so every write goes through the one writer.
"""

from __future__ import annotations

import sqlite3

from chatbox.adapters.sqlite import Database, execute, fetch_all, fetch_one, unix_now
from chatbox.ports import ChannelRecord


class SqliteChannelStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add_channel(self, record: ChannelRecord) -> bool:
        """Record a channel; False if it was already known."""

        def insert(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO channels (id, name, visibility, sealed_key, title,"
                " founder, follows, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    record.name,
                    record.visibility,
                    record.sealed_key,
                    record.title if record.title != record.name else None,
                    record.founder,
                    record.follows,
                    unix_now(),
                ),
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
            (account_id, channel_id, unix_now()),
        )

    async def joined_channel(self, account_id: int, channel_id: str) -> ChannelRecord | None:
        row = await self._db.read(
            fetch_one,
            "SELECT c.* FROM channels c JOIN memberships m ON m.channel_id = c.id"
            " WHERE m.account_id = ? AND c.id = ?",
            (account_id, channel_id),
        )
        return None if row is None else _channel(row)

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

    async def leave_all(self, account_id: int) -> None:
        await self._db.write(execute, "DELETE FROM memberships WHERE account_id = ?", (account_id,))

    async def memberships(self) -> list[tuple[int, str]]:
        """(account id, channel id) of every membership."""
        rows = await self._db.read(
            fetch_all, "SELECT account_id, channel_id FROM memberships ORDER BY rowid", ()
        )
        return [(row["account_id"], row["channel_id"]) for row in rows]

    async def mark_read(self, account_id: int, channel_id: str, clock: int) -> None:
        await self._db.write(
            execute,
            "UPDATE memberships SET read_clock = max(read_clock, ?)"
            " WHERE account_id = ? AND channel_id = ?",
            (clock, account_id, channel_id),
        )

    async def unread_counts(self, account_id: int) -> dict[str, int]:
        rows = await self._db.read(
            fetch_all,
            "SELECT m.channel_id, count(e.cid) AS unread FROM memberships m"
            " JOIN accounts a ON a.id = m.account_id"
            " LEFT JOIN entries e ON e.channel_id = m.channel_id AND e.clock > m.read_clock"
            " AND e.author != a.public_key AND e.kind IN ('message', 'reply') AND e.deleted = 0"
            " WHERE m.account_id = ? GROUP BY m.channel_id",
            (account_id,),
        )
        return {row["channel_id"]: int(row["unread"]) for row in rows}

    async def set_muted(self, account_id: int, channel_id: str, muted: bool) -> None:
        await self._db.write(
            execute,
            "UPDATE memberships SET muted = ? WHERE account_id = ? AND channel_id = ?",
            (int(muted), account_id, channel_id),
        )

    async def muted(self, account_id: int) -> set[str]:
        rows = await self._db.read(
            fetch_all,
            "SELECT channel_id FROM memberships WHERE account_id = ? AND muted = 1",
            (account_id,),
        )
        return {row["channel_id"] for row in rows}


def _channel(row: sqlite3.Row) -> ChannelRecord:
    key = row["sealed_key"]
    return ChannelRecord(
        row["id"],
        row["name"],
        row["visibility"],
        None if key is None else bytes(key),
        row["title"] or "",
        row["founder"],
        row["follows"],
    )
