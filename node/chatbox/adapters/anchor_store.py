"""The chain's state in the node's SQLite file: the transaction queue and anchored batches.

Shares the ``Database`` of ``SqliteLogStore``. A batch, its leaves, the entries it covers
and its transaction are recorded in one write, so a crash leaves either all of them or
none; a transaction is saved signed before it is ever sent.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from chatbox.adapters.sqlite import Database, execute, fetch_all, fetch_one, rows_for
from chatbox.ports import AnchorEvent, BatchRecord, ChainTx, PlannedBatch, SignedTx


class SqliteAnchorStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def record_batch(
        self, plan: Callable[[dict[str, list[str]]], PlannedBatch | None]
    ) -> int | None:
        """Offer ``plan`` the heads of every channel changed since its last anchor.

        Nothing is recorded while an earlier batch still waits for the chain: one batch
        in flight, whatever the load. Runs on the writer, so no entry is indexed between
        reading the heads and marking the entries they cover.
        """

        def record(connection: sqlite3.Connection) -> int | None:
            if _open_batch_id(connection) is not None:
                return None
            planned = plan(_changed_heads(connection))
            if planned is None:
                return None
            now = int(time.time())
            tx_id = _insert_tx(
                connection, "anchor", [planned.root.hex(), planned.manifest_cid], now
            )
            batch_id = connection.execute(
                "INSERT INTO anchor_batches (tx_id, root, manifest_cid, manifest, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (tx_id, planned.root, planned.manifest_cid, planned.manifest, now),
            ).lastrowid
            _insert_leaves(connection, batch_id, planned.leaves)
            for channel_id, _, _ in planned.leaves:
                connection.execute(
                    "INSERT OR IGNORE INTO anchor_coverage (cid, batch_id)"
                    " SELECT cid, ? FROM entries WHERE channel_id = ?",
                    (batch_id, channel_id),
                )
            return batch_id

        return await self._db.write(record)

    async def open_batch(self) -> BatchRecord | None:
        """The batch waiting for the chain, if any."""
        batch_id = await self._db.read(_open_batch_id)
        return None if batch_id is None else await self.batch(batch_id)

    async def batch(self, batch_id: int) -> BatchRecord | None:
        return await self._db.read(_batch, batch_id)

    async def covering_batch(self, cid: str) -> int | None:
        row = await self._db.read(
            fetch_one, "SELECT batch_id FROM anchor_coverage WHERE cid = ?", (cid,)
        )
        return None if row is None else int(row["batch_id"])

    async def confirmed_among(self, cids: list[str]) -> set[str]:
        """Which of ``cids`` a batch covers whose transaction is confirmed."""

        def read(connection: sqlite3.Connection) -> set[str]:
            sql = (
                "SELECT c.cid FROM anchor_coverage c JOIN anchor_batches b ON b.id = c.batch_id"
                " JOIN chain_txs t ON t.id = b.tx_id WHERE t.state = 'confirmed'"
                " AND c.cid IN ({})"
            )
            return {row["cid"] for row in rows_for(connection, sql, cids)}

        return await self._db.read(read)

    async def last_confirmed_anchor(self) -> BatchRecord | None:
        row = await self._db.read(
            fetch_one,
            "SELECT b.id FROM anchor_batches b JOIN chain_txs t ON t.id = b.tx_id"
            " WHERE t.state = 'confirmed' ORDER BY b.id DESC LIMIT 1",
            (),
        )
        return None if row is None else await self.batch(int(row["id"]))

    async def mark_manifest_stored(self, batch_id: int) -> None:
        await self._db.write(
            execute, "UPDATE anchor_batches SET stored = 1 WHERE id = ?", (batch_id,)
        )

    async def queue_tx(self, kind: str, args: list[Any]) -> int:
        return await self._db.write(_insert_tx, kind, args, int(time.time()))

    async def next_tx(self) -> ChainTx | None:
        """The oldest transaction not yet confirmed or failed: they go one at a time."""
        row = await self._db.read(
            fetch_one,
            f"SELECT {_TX_COLUMNS} FROM chain_txs WHERE state IN ('queued', 'sent')"
            " ORDER BY id LIMIT 1",
            (),
        )
        return None if row is None else _tx(row)

    async def tx_signed(self, tx_id: int, signed: SignedTx) -> None:
        await self._db.write(
            execute,
            "UPDATE chain_txs SET state = 'sent', nonce = ?, tx_hash = ?, raw = ?,"
            " attempts = attempts + 1, last_error = NULL, updated_at = ? WHERE id = ?",
            (signed.nonce, signed.tx_hash, signed.raw, int(time.time()), tx_id),
        )

    async def tx_requeued(self, tx_id: int, error: str) -> None:
        """The signed transaction can never be mined (its nonce went to another): sign anew."""
        await self._db.write(
            execute,
            "UPDATE chain_txs SET state = 'queued', nonce = NULL, tx_hash = NULL, raw = NULL,"
            " last_error = ?, updated_at = ? WHERE id = ?",
            (error, int(time.time()), tx_id),
        )

    async def tx_attempt_failed(self, tx_id: int, error: str) -> None:
        await self._db.write(
            execute,
            "UPDATE chain_txs SET last_error = ?, updated_at = ? WHERE id = ?",
            (error, int(time.time()), tx_id),
        )

    async def tx_finished(
        self,
        tx_id: int,
        state: str,
        block_number: int | None,
        gas_used: int | None,
        error: str | None,
    ) -> None:
        def finish(connection: sqlite3.Connection) -> None:
            connection.execute(
                "UPDATE chain_txs SET state = ?, block_number = ?, gas_used = ?, raw = NULL,"
                " last_error = ?, updated_at = ? WHERE id = ?",
                (state, block_number, gas_used, error, int(time.time()), tx_id),
            )
            if state == "failed":
                # Its entries were never anchored: the next batch covers them.
                connection.execute(
                    "DELETE FROM anchor_coverage WHERE batch_id IN"
                    " (SELECT id FROM anchor_batches WHERE tx_id = ?)",
                    (tx_id,),
                )

        await self._db.write(finish)

    async def tx_counts(self) -> dict[str, int]:
        rows = await self._db.read(
            fetch_all, "SELECT state, count(*) AS n FROM chain_txs GROUP BY state", ()
        )
        return {row["state"]: int(row["n"]) for row in rows}

    async def import_batch(
        self, event: AnchorEvent, manifest: bytes, leaves: list[tuple[str, list[str], bytes]]
    ) -> None:
        """Record a batch found on chain (restore); it covers every entry of its channels."""

        def insert(connection: sqlite3.Connection) -> None:
            now = int(time.time())
            tx_id = _insert_tx(connection, "anchor", [event.root.hex(), event.manifest_cid], now)
            connection.execute(
                "UPDATE chain_txs SET state = 'confirmed', tx_hash = ?, block_number = ?"
                " WHERE id = ?",
                (event.tx_hash, event.block_number, tx_id),
            )
            batch_id = connection.execute(
                "INSERT INTO anchor_batches (tx_id, root, manifest_cid, manifest, stored,"
                " created_at) VALUES (?, ?, ?, ?, 1, ?)",
                (tx_id, event.root, event.manifest_cid, manifest, now),
            ).lastrowid
            _insert_leaves(connection, batch_id, leaves)
            for channel_id, _, _ in leaves:
                connection.execute(
                    "INSERT OR REPLACE INTO anchor_coverage (cid, batch_id)"
                    " SELECT cid, ? FROM entries WHERE channel_id = ?",
                    (batch_id, channel_id),
                )

        await self._db.write(insert)


_TX_COLUMNS = "id, kind, args, state, nonce, tx_hash, raw, block_number, attempts, updated_at"


def _insert_tx(connection: sqlite3.Connection, kind: str, args: list[Any], now: int) -> int:
    cursor = connection.execute(
        "INSERT INTO chain_txs (kind, args, created_at, updated_at) VALUES (?, ?, ?, ?)",
        (kind, json.dumps(args), now, now),
    )
    return int(cursor.lastrowid or 0)


def _insert_leaves(
    connection: sqlite3.Connection, batch_id: int | None, leaves: list[tuple[str, list[str], bytes]]
) -> None:
    connection.executemany(
        "INSERT INTO anchor_leaves (batch_id, leaf_index, channel_id, heads, nonce)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (batch_id, index, channel_id, json.dumps(sorted(heads)), nonce)
            for index, (channel_id, heads, nonce) in enumerate(leaves)
        ],
    )


def _open_batch_id(connection: sqlite3.Connection) -> int | None:
    row = connection.execute(
        "SELECT b.id FROM anchor_batches b JOIN chain_txs t ON t.id = b.tx_id"
        " WHERE t.state IN ('queued', 'sent') ORDER BY b.id LIMIT 1"
    ).fetchone()
    return None if row is None else int(row[0])


def _changed_heads(connection: sqlite3.Connection) -> dict[str, list[str]]:
    """Channels whose heads differ from those of their last batch that did not fail."""
    current: dict[str, list[str]] = {}
    for channel_id, cid in connection.execute(
        "SELECT channel_id, cid FROM heads ORDER BY channel_id, cid"
    ):
        current.setdefault(channel_id, []).append(cid)
    anchored = {
        channel_id: json.loads(heads)
        for channel_id, heads in connection.execute(
            "SELECT l.channel_id, l.heads FROM anchor_leaves l"
            " JOIN anchor_batches b ON b.id = l.batch_id JOIN chain_txs t ON t.id = b.tx_id"
            " WHERE t.state != 'failed' AND l.batch_id = (SELECT max(l2.batch_id)"
            "  FROM anchor_leaves l2 JOIN anchor_batches b2 ON b2.id = l2.batch_id"
            "  JOIN chain_txs t2 ON t2.id = b2.tx_id"
            "  WHERE l2.channel_id = l.channel_id AND t2.state != 'failed')"
        )
    }
    return {
        channel_id: heads
        for channel_id, heads in current.items()
        if anchored.get(channel_id) != heads
    }


def _batch(connection: sqlite3.Connection, batch_id: int) -> BatchRecord | None:
    row = fetch_one(
        connection,
        "SELECT id, tx_id, root, manifest_cid, manifest, stored FROM anchor_batches WHERE id = ?",
        (batch_id,),
    )
    if row is None:
        return None
    tx_row = connection.execute(
        f"SELECT {_TX_COLUMNS} FROM chain_txs WHERE id = ?", (row["tx_id"],)
    ).fetchone()
    leaves = [
        (leaf["channel_id"], json.loads(leaf["heads"]), bytes(leaf["nonce"]))
        for leaf in fetch_all(
            connection,
            "SELECT channel_id, heads, nonce FROM anchor_leaves WHERE batch_id = ?"
            " ORDER BY leaf_index",
            (batch_id,),
        )
    ]
    return BatchRecord(
        id=int(row["id"]),
        tx=_tx(tx_row),
        root=bytes(row["root"]),
        manifest_cid=row["manifest_cid"],
        manifest=bytes(row["manifest"]),
        stored=bool(row["stored"]),
        leaves=leaves,
    )


def _tx(row: sqlite3.Row) -> ChainTx:
    return ChainTx(
        id=int(row["id"]),
        kind=row["kind"],
        args=json.loads(row["args"]),
        state=row["state"],
        nonce=row["nonce"],
        tx_hash=row["tx_hash"],
        raw=None if row["raw"] is None else bytes(row["raw"]),
        block_number=row["block_number"],
        attempts=int(row["attempts"]),
        updated_at=int(row["updated_at"]),
    )
