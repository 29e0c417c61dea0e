"""The node's SQLite file and its message log (entries, links, heads): the ``EntryLog``,
``LogReplica``, ``PinQueue`` and ``StoreHealth`` ports (``chatbox.ports``).

It opens the database (and migrates it); the other stores of the file share its
``Database``, each owning its own tables.

Heads are kept incrementally with the log's own rule (``domain.log.heads_after``), so the
index answers "what are the heads" without walking history.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable
from pathlib import Path

from chatbox.adapters.schema import migrate
from chatbox.adapters.sqlite import (
    Database,
    fetch_all,
    fetch_count,
    fetch_one,
    rows_for,
)
from chatbox.domain import canonical
from chatbox.domain.log import heads_after
from chatbox.domain.relations import Said
from chatbox.ports import EntryRecord, IndexedEntry

_ENTRY_COLUMNS = (
    "cid, channel_id, clock, author, ts, body, stored, kind, target, reaction, reaction_on,"
    " content, deleted, content_cid"
)
_FORGETS = ("message", "reply")  # what a delete removes: a message and its edits


class SqliteLogStore:
    """The message index and heads; the one opener of the database file."""

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

    def append(self, indexed: IndexedEntry, stored: bool) -> Awaitable[bool]:
        """Index one verified entry and move the heads; False if it was already indexed.

        The write is queued at once, so appends commit in call order. ``stored=False``
        puts the entry in the outbox until IPFS has it pinned. The envelope bytes are
        kept either way: packs for peers are read from here, not from IPFS.
        """
        return self._db.submit(_insert_entry, indexed, stored)

    async def heads(self, channel_id: str) -> list[tuple[str, int]]:
        rows = await self._db.read(
            fetch_all,
            "SELECT cid, clock FROM heads WHERE channel_id = ? ORDER BY cid",
            (channel_id,),
        )
        return [(row["cid"], row["clock"]) for row in rows]

    async def page(
        self,
        channel_id: str,
        before: tuple[int, str] | None,
        limit: int,
        with_replies: bool = False,
    ) -> list[EntryRecord]:
        """Up to ``limit`` messages preceding ``before`` in log order, oldest first: the
        channel's own lines (and with ``with_replies`` the replies in its threads), without
        the edits, reactions and deletes about them."""
        # Past the largest clock SQLite holds, and after every CID, when no cursor is given.
        clock, cid = before if before is not None else (2**63 - 1, "")
        kinds = "('message', 'reply')" if with_replies else "('message')"
        rows = await self._db.read(
            fetch_all,
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE channel_id = ? AND kind IN {kinds}"
            " AND (clock < ? OR (clock = ? AND cid < ?)) ORDER BY clock DESC, cid DESC LIMIT ?",
            (channel_id, clock, clock, cid, limit),
        )
        return [_entry(row) for row in reversed(rows)]

    async def page_after(
        self, channel_id: str, after: tuple[int, str], limit: int
    ) -> list[EntryRecord]:
        """Up to ``limit`` messages following ``after`` in log order, oldest first."""
        clock, cid = after
        rows = await self._db.read(
            fetch_all,
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE channel_id = ? AND kind = 'message'"
            " AND (clock > ? OR (clock = ? AND cid > ?)) ORDER BY clock, cid LIMIT ?",
            (channel_id, clock, clock, cid, limit),
        )
        return [_entry(row) for row in rows]

    async def search_public(
        self, channel_ids: list[str], words: list[str], limit: int
    ) -> list[str]:
        """CIDs of the entries of ``channel_ids`` whose text holds a word beginning with each
        of ``words`` (folded, made of word characters only), the latest to arrive first."""
        if not channel_ids or not words:
            return []
        # Each word quoted as a phrase and prefix-matched: nothing typed is FTS5 syntax.
        match = " ".join(f'"{word}"*' for word in words)
        marks = ",".join("?" * len(channel_ids))
        # The index's own order (arrival) lets it stop at ``limit``: sorting every match
        # by time first costs a common word's thousands of rows.
        rows = await self._db.read(
            fetch_all,
            f"SELECT cid FROM message_search WHERE message_search MATCH ?"
            f" AND channel_id IN ({marks}) ORDER BY rowid DESC LIMIT ?",
            (match, *channel_ids, limit),
        )
        return [row["cid"] for row in rows]

    async def entries(self, cids: list[str]) -> list[EntryRecord]:
        """The entries of ``cids`` this box holds, in no particular order."""
        found: list[EntryRecord] = []
        for start in range(0, len(cids), 500):  # well under SQLite's limit on parameters
            chunk = cids[start : start + 500]
            rows = await self._db.read(
                fetch_all,
                f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE cid IN ({','.join('?' * len(chunk))})",
                tuple(chunk),
            )
            found += [_entry(row) for row in rows]
        return found

    async def entry(self, cid: str) -> EntryRecord | None:
        row = await self._db.read(
            fetch_one, f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE cid = ?", (cid,)
        )
        return None if row is None else _entry(row)

    async def about(self, targets: list[str]) -> list[Said]:
        """What names any of ``targets``, in log order: what a page of messages folds in.

        Read from the index alone (entries_about, which says why).
        """
        sql = (
            "SELECT cid, kind, target, author, deleted, reaction, reaction_on, clock"
            " FROM entries WHERE target IN ({}) ORDER BY clock, cid"
        )

        def read(connection: sqlite3.Connection) -> list[Said]:
            rows = list(rows_for(connection, sql, targets))
            # In order already, unless so many targets took more than one query; sorting
            # what is in order costs little.
            rows.sort(key=lambda row: (row[7], row[0]))
            return [
                Said(cid, kind, target, author, deleted == 1, reaction, on == 1)
                for cid, kind, target, author, deleted, reaction, on, _ in rows
            ]

        return await self._db.read(read)

    async def acts(self, channel_id: str) -> list[EntryRecord]:
        """A channel's moderation acts, in log order."""
        rows = await self._db.read(
            fetch_all,
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE channel_id = ? AND kind = 'mod'"
            " ORDER BY clock, cid",
            (channel_id,),
        )
        return [_entry(row) for row in rows]

    async def deletes_of_others(self, channel_id: str) -> list[tuple[str, int, str, str]]:
        """Deletes of messages and replies their author did not write, whose message still
        shows: (delete CID, its clock, its author, the message's CID), in log order."""
        rows = await self._db.read(
            fetch_all,
            "SELECT d.cid, d.clock, d.author, d.target FROM entries d"
            " JOIN entries m ON m.cid = d.target"
            " WHERE d.channel_id = ? AND d.kind = 'delete' AND m.channel_id = d.channel_id"
            " AND m.kind IN ('message', 'reply') AND m.deleted = 0 AND m.author != d.author"
            " ORDER BY d.clock, d.cid",
            (channel_id,),
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    async def written_since(
        self, channel_id: str, kinds: tuple[str, ...], author: str | None, after: int
    ) -> list[tuple[str, str, int, int]]:
        """What of ``kinds`` was indexed in a channel after the row ``after``, not deleted,
        by ``author`` or anyone: (cid, author, clock, row)."""
        marks = ",".join("?" * len(kinds))
        rows = await self._db.read(
            fetch_all,
            "SELECT cid, author, clock, rowid FROM entries WHERE rowid > ? AND channel_id = ?"
            f" AND kind IN ({marks}) AND deleted = 0 AND (? IS NULL OR author = ?)",
            (after, channel_id, *kinds, author, author),
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    async def deleted_by_others(self, cids: list[str]) -> bool:
        """Whether a delete by someone else than its author names one of these messages."""

        def read(connection: sqlite3.Connection) -> bool:
            sql = (
                "SELECT 1 FROM entries d JOIN entries m ON m.cid = d.target"
                " WHERE d.kind = 'delete' AND d.author != m.author AND d.target IN ({})"
            )
            return any(True for _ in rows_for(connection, sql, cids))

        return await self._db.read(read)

    async def ancestors(self, cid: str) -> tuple[set[str], set[str]]:
        """Every entry ``cid`` names in ``prev``, directly or through others, and those of
        them this box does not hold (what lies beyond those is not known yet)."""
        rows = await self._db.read(
            fetch_all,
            "WITH RECURSIVE up(cid) AS (SELECT parent FROM links WHERE child = ?"
            " UNION SELECT l.parent FROM links l JOIN up ON l.child = up.cid)"
            " SELECT up.cid, e.cid IS NOT NULL FROM up LEFT JOIN entries e ON e.cid = up.cid",
            (cid,),
        )
        return {row[0] for row in rows}, {row[0] for row in rows if not row[1]}

    async def forget(self, cids: list[str]) -> None:
        """Drop what these entries said, as a counted delete or ban asks (the envelopes stay)."""

        def drop(connection: sqlite3.Connection) -> None:
            for cid in cids:
                _drop(connection, cid)

        await self._db.write(drop)

    async def contents(self, cids: list[str]) -> dict[str, bytes]:
        """The content blocks this box still holds of those of ``cids`` that have one, by
        the entry's CID."""

        def read(connection: sqlite3.Connection) -> dict[str, bytes]:
            sql = "SELECT cid, content FROM entries WHERE content IS NOT NULL AND cid IN ({})"
            return {cid: bytes(content) for cid, content in rows_for(connection, sql, cids)}

        return await self._db.read(read)

    async def file_entries(self, file_cid: str) -> list[EntryRecord]:
        """The entries that refer to a file, oldest first."""
        rows = await self._db.read(
            fetch_all,
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE file_cid = ? ORDER BY clock, cid",
            (file_cid,),
        )
        return [_entry(row) for row in rows]

    async def outbox(self, limit: int) -> list[tuple[str, bytes, bytes | None]]:
        """Entries not yet pinned on IPFS, oldest first, with their content blocks."""
        rows = await self._db.read(
            fetch_all,
            "SELECT cid, raw, content FROM entries WHERE stored = 0 ORDER BY rowid LIMIT ?",
            (limit,),
        )
        return [
            (row["cid"], bytes(row["raw"]), None if row["content"] is None else row["content"])
            for row in rows
        ]

    async def forgotten(self, limit: int) -> list[str]:
        """Blocks (files and content blocks) deletes dropped that IPFS may still hold."""
        rows = await self._db.read(fetch_all, "SELECT cid FROM forgotten_blocks LIMIT ?", (limit,))
        return [row["cid"] for row in rows]

    async def gone_from_ipfs(self, cids: list[str]) -> None:
        """IPFS no longer holds these; the write-ahead log, which may still hold the pages
        the deletes changed, is folded into the file (where they were zeroed) and emptied."""

        def forget(connection: sqlite3.Connection) -> None:
            connection.executemany(
                "DELETE FROM forgotten_blocks WHERE cid = ?", [(cid,) for cid in cids]
            )
            # FTS5 marks a deleted row's words as gone but keeps them in its older segments
            # until they are merged: merging them all drops the words from the file.
            connection.execute("INSERT INTO message_search (message_search) VALUES ('optimize')")

        await self._db.write(forget)
        await self._db.read(
            lambda connection: connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        )

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
            return {cid: bytes(raw) for cid, raw in rows_for(connection, sql, cids)}

        return await self._db.read(read)

    async def held(self, cids: list[str]) -> set[str]:
        """Those of ``cids`` the index holds."""

        def read(connection: sqlite3.Connection) -> set[str]:
            sql = "SELECT cid FROM entries WHERE cid IN ({})"
            return {row[0] for row in rows_for(connection, sql, cids)}

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

    async def message_count(self, channel_id: str) -> int:
        """Messages and replies of a channel that are not deleted."""
        return await self._db.read(
            fetch_count,
            "SELECT count(*) FROM entries WHERE channel_id = ? AND kind IN ('message', 'reply')"
            " AND deleted = 0",
            (channel_id,),
        )

    async def replace_index(self, channel_id: str, entries: list[IndexedEntry]) -> None:
        """Rebuild one channel's index from entries fetched from IPFS, in one transaction."""

        def rebuild(connection: sqlite3.Connection) -> None:
            connection.execute(
                "DELETE FROM links WHERE child IN (SELECT cid FROM entries WHERE channel_id = ?)",
                (channel_id,),
            )
            connection.execute("DELETE FROM entries WHERE channel_id = ?", (channel_id,))
            connection.execute("DELETE FROM heads WHERE channel_id = ?", (channel_id,))
            for indexed in entries:
                _insert_entry(connection, indexed, True)

        await self._db.write(rebuild)


def _insert_entry(connection: sqlite3.Connection, indexed: IndexedEntry, stored: bool) -> bool:
    entry = indexed.entry
    cursor = connection.execute(
        "INSERT OR IGNORE INTO entries (cid, channel_id, clock, author, ts, body, file_cid,"
        " raw, stored, kind, target, reaction, reaction_on, content, content_cid, words)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry.cid,
            entry.channel,
            entry.clock,
            entry.author,
            entry.ts,
            canonical.dumps(entry.body).decode("utf-8"),
            indexed.file_cid,
            entry.raw,
            int(stored),
            indexed.kind,
            indexed.target,
            indexed.reaction,
            int(indexed.reaction_on),
            indexed.content,
            indexed.content_cid,
            indexed.words,
        ),
    )
    if cursor.rowcount == 0:
        return False
    _apply_deletes(connection, indexed)
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


def _apply_deletes(connection: sqlite3.Connection, indexed: IndexedEntry) -> None:
    """Carry out what a delete asks, whichever of the delete and its message came first.

    A delete counts only from its message's author, and only for a message or a reply;
    it takes the message's edits with it. The message's words, content and file leave
    SQLite here; the blocks go to ``forgotten_blocks`` for the outbox to drop from IPFS.
    """
    entry = indexed.entry
    if indexed.kind == "delete":
        target = indexed.target
    elif indexed.kind in _FORGETS:
        target = entry.cid
    elif indexed.kind == "edit":
        target = indexed.target
    else:
        return
    if target is None:
        return
    row = connection.execute(
        "SELECT author, kind, channel_id FROM entries WHERE cid = ?", (target,)
    ).fetchone()
    if row is None or row[1] not in _FORGETS or row[2] != entry.channel:
        return
    deleted = connection.execute(
        "SELECT 1 FROM entries WHERE kind = 'delete' AND target = ? AND author = ? LIMIT 1",
        (target, row[0]),
    ).fetchone()
    if deleted is not None:
        _forget(connection, target, row[0])


def _forget(connection: sqlite3.Connection, target: str, author: str) -> None:
    """Drop what the message ``target`` and its author's edits of it said."""
    gone = [
        (cid, content_cid, file_cid)
        for cid, content_cid, file_cid in connection.execute(
            "SELECT cid, content_cid, file_cid FROM entries WHERE cid = ?"
            " OR (kind = 'edit' AND target = ? AND author = ?)",
            (target, target, author),
        )
    ]
    # Inline bodies (entries without a content block) hold their text in the envelope
    # itself, which the log needs: their index row is emptied, the envelope kept.
    connection.executemany(
        "UPDATE entries SET deleted = 1, content = NULL, words = NULL, file_cid = NULL,"
        " body = CASE WHEN content_cid IS NULL THEN '{}' ELSE body END WHERE cid = ?",
        [(cid,) for cid, _, _ in gone],
    )
    blocks = [content_cid for _, content_cid, _ in gone if content_cid]
    for _, _, file_cid in gone:
        still_shown = connection.execute(
            "SELECT 1 FROM entries WHERE file_cid = ? LIMIT 1", (file_cid,)
        ).fetchone()
        if file_cid and still_shown is None:
            blocks.append(file_cid)  # and the file pinner no longer wants it
    connection.executemany(
        "INSERT OR IGNORE INTO forgotten_blocks (cid) VALUES (?)", [(cid,) for cid in blocks]
    )


def _drop(connection: sqlite3.Connection, cid: str) -> None:
    row = connection.execute(
        "SELECT kind, author, content_cid FROM entries WHERE cid = ? AND deleted = 0", (cid,)
    ).fetchone()
    if row is None:
        return
    kind, author, content_cid = row
    if kind in _FORGETS:
        _forget(connection, cid, author)
        return
    connection.execute(
        "UPDATE entries SET deleted = 1, content = NULL, words = NULL WHERE cid = ?", (cid,)
    )
    if content_cid:
        connection.execute(
            "INSERT OR IGNORE INTO forgotten_blocks (cid) VALUES (?)", (content_cid,)
        )


def _mark_stored(connection: sqlite3.Connection, cids: list[str]) -> None:
    connection.executemany("UPDATE entries SET stored = 1 WHERE cid = ?", [(cid,) for cid in cids])


def _entry(row: sqlite3.Row) -> EntryRecord:
    return EntryRecord(
        row["cid"],
        row["channel_id"],
        row["clock"],
        row["author"],
        row["ts"],
        row["body"],
        bool(row["stored"]),
        row["kind"],
        row["target"],
        row["reaction"],
        bool(row["reaction_on"]),
        None if row["content"] is None else bytes(row["content"]),
        bool(row["deleted"]),
        row["content_cid"],
    )
