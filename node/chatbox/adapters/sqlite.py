"""SQLite off the event loop: one writer thread with group commit, one reader thread.

Writes are queued to the thread that owns the write connection; it takes every write
waiting, runs each in its own savepoint inside one transaction, commits once, and only
then answers their futures. An answered write is on disk (WAL with synchronous=FULL), so
a power cut never loses what was acknowledged, yet a burst of writes costs one fsync.
Reads run on a second thread with its own connection; WAL lets them proceed beside writes.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from chatbox.errors import Unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")
# Bound one transaction so a flood of writes still commits (and answers) steadily.
MAX_WRITES_PER_COMMIT = 500
HEALTH_TIMEOUT = 5.0
_STOP = object()


class Database:
    """A SQLite file opened for one writer thread and one reader thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writes: queue.Queue[Any] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-read")
        self._read_connection: sqlite3.Connection | None = None

    async def open(self, migrate: Callable[[sqlite3.Connection], object]) -> None:
        """Open both connections; ``migrate`` runs first, on the writer's connection."""
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._writer = threading.Thread(
            target=self._write_loop,
            args=(migrate, ready, asyncio.get_running_loop()),
            name="sqlite-write",
            daemon=True,
        )
        self._writer.start()
        await ready
        await self.read(lambda connection: None)

    async def close(self) -> None:
        if self._writer is not None:
            self._writes.put(_STOP)
            await asyncio.to_thread(self._writer.join)
            self._writer = None
        await asyncio.get_running_loop().run_in_executor(self._reader, self._close_reader)
        await asyncio.to_thread(self._reader.shutdown, wait=True)

    async def check_writable(self, timeout: float = HEALTH_TIMEOUT) -> None:
        """Unavailable unless the writer thread is alive and commits within ``timeout``.

        A writer that died (an error no write expected) would leave every post waiting
        for ever; the health check finds it, so systemd's watchdog restarts the node.
        """
        if self._writer is None or not self._writer.is_alive():
            raise Unavailable("the database writer has stopped")
        try:
            async with asyncio.timeout(timeout):
                await self.write(lambda connection: None)
        except TimeoutError as exc:
            raise Unavailable(f"the database did not commit within {timeout:.0f} s") from exc

    async def write(self, operation: Callable[..., T], *args: Any) -> T:
        """Run ``operation(connection, *args)`` in a transaction; return once committed."""
        return await self.submit(operation, *args)

    def submit(self, operation: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Queue a write now, in call order; the future settles once it is committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._writes.put((operation, args, future, asyncio.get_running_loop()))
        return future

    async def read(self, operation: Callable[..., T], *args: Any) -> T:
        """Run ``operation(connection, *args)`` on the reader thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader, self._run_read, operation, args)

    def _run_read(self, operation: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._read_connection is None:
            self._read_connection = _connect(self.path)
        return operation(self._read_connection, *args)

    def _close_reader(self) -> None:
        if self._read_connection is not None:
            self._read_connection.close()
            self._read_connection = None

    def _write_loop(
        self,
        migrate: Callable[[sqlite3.Connection], object],
        ready: asyncio.Future[None],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        try:
            connection = _connect(self.path)
            migrate(connection)
        except Exception as exc:  # reported to open(), which raises it
            loop.call_soon_threadsafe(_settle, ready, None, exc)
            return
        loop.call_soon_threadsafe(_settle, ready, None, None)
        try:
            while (batch := self._next_batch()) is not None:
                self._commit_batch(connection, batch)
        except BaseException:
            # Nothing is committed from here on; /healthz now fails and systemd restarts us.
            log.critical("the database writer stopped", exc_info=True)
            raise
        finally:
            connection.close()

    def _next_batch(self) -> list[Any] | None:
        first = self._writes.get()
        if first is _STOP:
            return None
        batch = [first]
        while len(batch) < MAX_WRITES_PER_COMMIT:
            try:
                item = self._writes.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                self._writes.put(_STOP)
                break
            batch.append(item)
        return batch

    def _commit_batch(self, connection: sqlite3.Connection, batch: list[Any]) -> None:
        outcomes: list[tuple[Any, BaseException | None]] = []
        try:
            connection.execute("BEGIN IMMEDIATE")
            for operation, args, _, _ in batch:
                outcomes.append(_run_in_savepoint(connection, operation, args))
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            # The commit itself failed (disk full, I/O error): nothing in the batch holds.
            log.error("database commit failed: %s", exc)
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            outcomes = [(None, exc)] * len(batch)
        for (_, _, future, loop), (result, error) in zip(batch, outcomes, strict=True):
            loop.call_soon_threadsafe(_settle, future, result, error)


def _run_in_savepoint(
    connection: sqlite3.Connection, operation: Callable[..., Any], args: tuple[Any, ...]
) -> tuple[Any, BaseException | None]:
    connection.execute("SAVEPOINT write_op")
    try:
        result = operation(connection, *args)
    except Exception as exc:  # one failed write must not spoil the others in its batch
        connection.execute("ROLLBACK TO write_op")
        connection.execute("RELEASE write_op")
        return None, exc
    connection.execute("RELEASE write_op")
    return result, None


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: transactions are opened explicitly by the writer thread.
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode=WAL")
    # FULL syncs the WAL on every commit: an acknowledged write survives a power cut.
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA busy_timeout=5000")
    # Freed pages are overwritten with zeros: a deleted message's words leave the file.
    connection.execute("PRAGMA secure_delete=ON")
    return connection


# Small operations for Database.read/write/submit.
def execute(connection: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> None:
    connection.execute(sql, params)


def fetch_one(
    connection: sqlite3.Connection, sql: str, params: tuple[object, ...]
) -> sqlite3.Row | None:
    row: sqlite3.Row | None = connection.execute(sql, params).fetchone()
    return row


def fetch_count(connection: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> int:
    return int(connection.execute(sql, params).fetchone()[0])


def fetch_all(
    connection: sqlite3.Connection, sql: str, params: tuple[object, ...]
) -> list[sqlite3.Row]:
    return connection.execute(sql, params).fetchall()


# SQLite's default limit of host parameters in one statement is 999 on older builds.
_SQL_BATCH = 500


def rows_for(connection: sqlite3.Connection, sql: str, values: list[str]) -> Iterator[sqlite3.Row]:
    """Rows of ``sql`` (its ``IN ({})`` filled with ``values``), a bounded chunk at a time."""
    for start in range(0, len(values), _SQL_BATCH):
        chunk = values[start : start + _SQL_BATCH]
        yield from connection.execute(sql.format(",".join("?" * len(chunk))), chunk)


def unix_now() -> int:
    """Whole seconds since the epoch: how every table of the file stores a time."""
    return int(time.time())
