"""Cards, conversations and grants, in the node's SQLite file (migration 0012)."""

from __future__ import annotations

import json
import sqlite3

from chatbox.adapters.sqlite import Database, execute, fetch_all, fetch_one, rows_for, unix_now


class SqliteConversationStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add_cards(self, cards: dict[str, str]) -> None:
        def upsert(connection: sqlite3.Connection) -> None:
            connection.executemany(
                "INSERT INTO cards (public_key, card) VALUES (?, ?)"
                " ON CONFLICT (public_key) DO UPDATE SET card = excluded.card",
                list(cards.items()),
            )

        if cards:
            await self._db.write(upsert)

    async def card(self, public_key: str) -> str | None:
        row = await self._db.read(
            fetch_one, "SELECT card FROM cards WHERE public_key = ?", (public_key,)
        )
        return None if row is None else str(row[0])

    async def cards(self, public_keys: list[str]) -> dict[str, str]:
        def select(connection: sqlite3.Connection) -> dict[str, str]:
            sql = "SELECT public_key, card FROM cards WHERE public_key IN ({})"
            return {row[0]: row[1] for row in rows_for(connection, sql, public_keys)}

        return await self._db.read(select)

    async def carded(self) -> set[str]:
        rows = await self._db.read(fetch_all, "SELECT public_key FROM cards", ())
        return {row[0] for row in rows}

    async def add_conversation(self, channel_id: str, members: tuple[str, ...]) -> None:
        await self._db.write(
            execute,
            "INSERT OR IGNORE INTO conversations (channel_id, members) VALUES (?, ?)",
            (channel_id, json.dumps(list(members))),
        )

    async def conversations(self) -> dict[str, tuple[str, ...]]:
        rows = await self._db.read(fetch_all, "SELECT channel_id, members FROM conversations", ())
        return {row[0]: tuple(json.loads(row[1])) for row in rows}

    async def add_grants(self, direction: str, grants: list[tuple[str, str, bytes]]) -> int:
        def insert(connection: sqlite3.Connection) -> int:
            before = connection.total_changes
            connection.executemany(
                "INSERT OR IGNORE INTO grants (channel_id, recipient, direction, grant, created_at)"
                " SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM grants"
                " WHERE direction = 'done' AND channel_id = ? AND recipient = ?)",
                [(ch, to, direction, raw, unix_now(), ch, to) for ch, to, raw in grants],
            )
            return connection.total_changes - before

        return await self._db.write(insert) if grants else 0

    async def waiting_grants(self, recipient: str) -> list[tuple[str, bytes]]:
        rows = await self._db.read(
            fetch_all,
            "SELECT channel_id, grant FROM grants WHERE direction = 'in' AND recipient = ?"
            " ORDER BY created_at",
            (recipient,),
        )
        return [(row[0], bytes(row[1])) for row in rows]

    async def drop_grant(self, channel_id: str, recipient: str) -> None:
        await self._db.write(
            execute,
            "UPDATE grants SET direction = 'done', grant = x'' WHERE direction = 'in'"
            " AND channel_id = ? AND recipient = ?",
            (channel_id, recipient),
        )

    async def grants_to_send(self, since: int) -> list[bytes]:
        rows = await self._db.read(
            fetch_all,
            "SELECT grant FROM grants WHERE direction = 'out' AND created_at >= ?"
            " ORDER BY created_at, channel_id, recipient",
            (since,),
        )
        return [bytes(row[0]) for row in rows]
