"""Other boxes and the files their entries bring, in the node's SQLite file.

Shares the ``Database`` of ``SqliteLogStore``: the buddy list of boxes (found over mDNS, added
by multiaddr, or heard on a channel's topic) with when each was last seen and how many
invalid things it sent, and the queue of files to pin for entries that came from peers.
"""

from __future__ import annotations

import json
import sqlite3

from chatbox.adapters.sqlite import Database, fetch_all, unix_now
from chatbox.ports import PeerRecord, RemotePerson


class SqlitePeerStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def remember(self, peer_id: str, source: str, addresses: list[str], name: str) -> None:
        """Record a box found over mDNS or added by hand; a manual entry stays manual."""

        def upsert(connection: sqlite3.Connection) -> None:
            _ensure(connection, peer_id, source)
            connection.execute(
                "UPDATE peers SET addresses = ?, name = CASE WHEN ? = '' THEN name ELSE ? END,"
                " source = CASE WHEN source = 'manual' THEN source ELSE ? END"
                " WHERE peer_id = ?",
                (json.dumps(addresses), name, name, source, peer_id),
            )

        await self._db.write(upsert)

    async def heard(self, peer_id: str, box_key: str, name: str) -> None:
        """A valid announcement from this box arrived: it is online now."""

        def upsert(connection: sqlite3.Connection) -> None:
            _ensure(connection, peer_id, "pubsub")
            connection.execute(
                "UPDATE peers SET box_key = ?, name = ?, last_seen = ? WHERE peer_id = ?",
                (box_key, name, unix_now(), peer_id),
            )

        await self._db.write(upsert)

    async def rejected(self, peer_id: str) -> None:
        """Count something invalid this peer sent."""

        def count(connection: sqlite3.Connection) -> None:
            _ensure(connection, peer_id, "pubsub")
            connection.execute(
                "UPDATE peers SET rejected = rejected + 1 WHERE peer_id = ?", (peer_id,)
            )

        await self._db.write(count)

    async def forget(self, peer_id: str) -> bool:
        def delete(connection: sqlite3.Connection) -> bool:
            deleted = connection.execute("DELETE FROM peers WHERE peer_id = ?", (peer_id,))
            return deleted.rowcount > 0

        return await self._db.write(delete)

    async def peers(self) -> list[PeerRecord]:
        rows = await self._db.read(fetch_all, "SELECT * FROM peers ORDER BY name, peer_id", ())
        return [
            PeerRecord(
                peer_id=row["peer_id"],
                box_key=row["box_key"],
                name=row["name"],
                addresses=list(json.loads(row["addresses"])),
                source=row["source"],
                last_seen=row["last_seen"],
                rejected=row["rejected"],
            )
            for row in rows
        ]

    async def met(self, people: list[RemotePerson]) -> None:
        """Remember authors from other boxes with the names their boxes gave."""

        def upsert(connection: sqlite3.Connection) -> None:
            connection.executemany(
                "INSERT INTO remote_people (public_key, name, box_name, last_seen, handle)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (public_key) DO UPDATE SET"
                " name = excluded.name, box_name = excluded.box_name,"
                " last_seen = max(remote_people.last_seen, excluded.last_seen),"
                " handle = coalesce(excluded.handle, remote_people.handle)",
                [(p.public_key, p.name, p.box_name, p.last_seen, p.handle) for p in people],
            )

        await self._db.write(upsert)

    async def remote_people(self) -> list[RemotePerson]:
        rows = await self._db.read(
            fetch_all, "SELECT * FROM remote_people ORDER BY name, public_key", ()
        )
        return [
            RemotePerson(r["public_key"], r["name"], r["box_name"], r["last_seen"], r["handle"])
            for r in rows
        ]

    async def want_files(self, files: list[tuple[str, str]]) -> None:
        """Queue (file cid, channel id) pairs to pin; already known ones are left alone."""

        def insert(connection: sqlite3.Connection) -> None:
            connection.executemany(
                "INSERT OR IGNORE INTO file_pins (cid, channel_id, updated_at) VALUES (?, ?, ?)",
                [(cid, channel, unix_now()) for cid, channel in files],
            )

        await self._db.write(insert)

    async def files_to_pin(self, limit: int, retry_before: int) -> list[str]:
        """Unpinned files, those never tried first, then those last tried before the given
        time; a file whose every message was deleted is no longer wanted."""
        rows = await self._db.read(
            fetch_all,
            "SELECT cid FROM file_pins WHERE pinned = 0"
            " AND (attempts = 0 OR updated_at < ?)"
            " AND EXISTS (SELECT 1 FROM entries WHERE entries.file_cid = file_pins.cid)"
            " ORDER BY attempts, updated_at LIMIT ?",
            (retry_before, limit),
        )
        return [row[0] for row in rows]

    async def file_pinned(self, cid: str, error: str | None) -> None:
        """Record a pin's outcome: done when ``error`` is None, else tried once more."""

        def update(connection: sqlite3.Connection) -> None:
            connection.execute(
                "UPDATE file_pins SET pinned = ?, attempts = attempts + 1, last_error = ?,"
                " updated_at = ? WHERE cid = ?",
                (int(error is None), error, unix_now(), cid),
            )

        await self._db.write(update)

    async def file_pin_counts(self) -> dict[str, int]:
        rows = await self._db.read(
            fetch_all, "SELECT pinned, count(*) FROM file_pins GROUP BY pinned", ()
        )
        counts = {bool(row[0]): row[1] for row in rows}
        return {"pinned": counts.get(True, 0), "waiting": counts.get(False, 0)}


def _ensure(connection: sqlite3.Connection, peer_id: str, source: str) -> None:
    connection.execute(
        "INSERT OR IGNORE INTO peers (peer_id, source, added_at) VALUES (?, ?, ?)",
        (peer_id, source, unix_now()),
    )
