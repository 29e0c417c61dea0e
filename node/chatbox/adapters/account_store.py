"""Accounts in the node's SQLite file, and what belongs to them: former keys, sessions,
sign-up and reset codes, and the box settings the owner chooses.

Shares the ``Database`` of ``SqliteLogStore`` so every write goes through the one writer.
"""

from __future__ import annotations

import sqlite3

from chatbox.adapters.sqlite import Database, execute, fetch_all, fetch_count, fetch_one, unix_now
from chatbox.errors import Conflict
from chatbox.ports import AccountRecord, PersonRecord, SessionRecord

# A claimed code belongs to an account being created; 0 marks "claimed, not yet spent".
_CLAIMED = 0


class SqliteAccountStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add_account(
        self,
        name: str,
        public_key: str,
        sealing_public_key: str,
        locked_keys: bytes,
        is_admin: bool,
        display_name: str | None = None,
    ) -> AccountRecord:
        def insert(connection: sqlite3.Connection) -> int:
            try:
                cursor = connection.execute(
                    "INSERT INTO accounts (name, public_key, sealing_public_key, locked_keys,"
                    " is_admin, display_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        name,
                        public_key,
                        sealing_public_key,
                        locked_keys,
                        int(is_admin),
                        display_name,
                        unix_now(),
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise Conflict("an account with that name already exists") from exc
            return int(cursor.lastrowid or 0)

        account_id = await self._db.write(insert)
        return AccountRecord(
            account_id, name, public_key, sealing_public_key, locked_keys, is_admin, display_name
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

    async def account_count(self) -> int:
        return await self._db.read(fetch_count, "SELECT count(*) FROM accounts", ())

    async def set_disabled(self, account_id: int, disabled: bool) -> None:
        def switch(connection: sqlite3.Connection) -> None:
            connection.execute(
                "UPDATE accounts SET disabled_at = ? WHERE id = ? AND removed_at IS NULL",
                (unix_now() if disabled else None, account_id),
            )
            if disabled:
                connection.execute("DELETE FROM sessions WHERE account_id = ?", (account_id,))

        await self._db.write(switch)

    async def remove_account(self, account_id: int) -> None:
        def remove(connection: sqlite3.Connection) -> None:
            now = unix_now()
            connection.execute(
                "UPDATE accounts SET removed_at = ?, disabled_at = coalesce(disabled_at, ?),"
                " locked_keys = X'' WHERE id = ?",
                (now, now, account_id),
            )
            connection.execute("DELETE FROM sessions WHERE account_id = ?", (account_id,))
            connection.execute("DELETE FROM admin_reset_codes WHERE account_id = ?", (account_id,))

        await self._db.write(remove)

    async def people(self) -> list[PersonRecord]:
        rows = await self._db.read(
            fetch_all,
            "SELECT id, name, public_key, is_admin, last_seen, display_name FROM accounts"
            " WHERE removed_at IS NULL ORDER BY coalesce(display_name, name) COLLATE NOCASE",
            (),
        )
        return [
            PersonRecord(
                row["id"],
                row["name"],
                row["public_key"],
                bool(row["is_admin"]),
                row["last_seen"],
                row["display_name"],
            )
            for row in rows
        ]

    async def set_display_name(self, account_id: int, display_name: str | None) -> None:
        await self._db.write(
            execute,
            "UPDATE accounts SET display_name = ? WHERE id = ?",
            (display_name, account_id),
        )

    async def former_names(self) -> dict[str, str]:
        """Shown name by each public key an account had before a password reset, and by
        the key of each removed account: what they wrote keeps their name."""
        rows = await self._db.read(
            fetch_all,
            "SELECT former_keys.public_key, coalesce(accounts.display_name, accounts.name)"
            " AS name FROM former_keys JOIN accounts ON accounts.id = former_keys.account_id"
            " UNION ALL SELECT public_key, coalesce(display_name, name) FROM accounts"
            " WHERE removed_at IS NOT NULL",
            (),
        )
        return {row["public_key"]: row["name"] for row in rows}

    async def add_reset_code(
        self, code_hash: bytes, expires_at: int, account_id: int | None
    ) -> None:
        """A reset code for ``account_id``, or (None) for any admin account."""

        def insert(connection: sqlite3.Connection) -> None:
            connection.execute(
                "DELETE FROM admin_reset_codes WHERE expires_at <= strftime('%s', 'now')"
            )
            connection.execute(
                "INSERT INTO admin_reset_codes (code_hash, expires_at, account_id)"
                " VALUES (?, ?, ?)",
                (code_hash, expires_at, account_id),
            )

        await self._db.write(insert)

    async def rekey_with_code(
        self,
        code_hash: bytes,
        now: int,
        account_id: int,
        keys: tuple[str, str, bytes],
        any_admin_code: bool,
    ) -> bool:
        """Spend a reset code and give the account new keys, in one transaction: the old
        public key is kept (its messages keep their author's name) and every session of the
        account ends. The code must be for this account, or be a console code and
        ``any_admin_code`` true (the account is an admin's). False, changing nothing, if the
        code is unknown, used, expired or for another account."""
        public_key, sealing_public_key, locked_keys = keys

        def rekey(connection: sqlite3.Connection) -> bool:
            spent = connection.execute(
                "DELETE FROM admin_reset_codes WHERE code_hash = ? AND expires_at > ?"
                " AND (account_id = ? OR (account_id IS NULL AND ?))",
                (code_hash, now, account_id, int(any_admin_code)),
            ).rowcount
            if not spent:
                return False
            connection.execute(
                "INSERT OR IGNORE INTO former_keys (public_key, account_id, retired_at)"
                " SELECT public_key, id, ? FROM accounts WHERE id = ?",
                (now, account_id),
            )
            connection.execute(
                "UPDATE accounts SET public_key = ?, sealing_public_key = ?, locked_keys = ?"
                " WHERE id = ?",
                (public_key, sealing_public_key, locked_keys, account_id),
            )
            connection.execute("DELETE FROM sessions WHERE account_id = ?", (account_id,))
            return True

        return bool(await self._db.write(rekey))

    async def touch(self, account_id: int, when: int) -> None:
        await self._db.write(
            execute, "UPDATE accounts SET last_seen = ? WHERE id = ?", (when, account_id)
        )

    async def add_session(
        self, token_hash: bytes, account_id: int, sealed_keys: bytes, expires_at: int
    ) -> None:
        """Record a session, and forget expired ones so the table stays small for years."""

        def insert(connection: sqlite3.Connection) -> None:
            connection.execute("DELETE FROM sessions WHERE expires_at <= strftime('%s', 'now')")
            connection.execute(
                "INSERT INTO sessions (token_hash, account_id, sealed_keys, created_at,"
                " expires_at) VALUES (?, ?, ?, strftime('%s', 'now'), ?)",
                (token_hash, account_id, sealed_keys, expires_at),
            )

        await self._db.write(insert)

    async def session(self, token_hash: bytes, now: int) -> SessionRecord | None:
        row = await self._db.read(
            fetch_one,
            "SELECT account_id, sealed_keys, expires_at FROM sessions"
            " WHERE token_hash = ? AND expires_at > ?",
            (token_hash, now),
        )
        if row is None:
            return None
        return SessionRecord(row["account_id"], bytes(row["sealed_keys"]), row["expires_at"])

    async def delete_session(self, token_hash: bytes) -> None:
        await self._db.write(execute, "DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    async def setting(self, key: str) -> str | None:
        row = await self._db.read(fetch_one, "SELECT value FROM box_settings WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    async def set_setting(self, key: str, value: str) -> None:
        await self._db.write(
            execute,
            "INSERT INTO box_settings (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def add_signup_code(self, code_hash: bytes, created_by: int, expires_at: int) -> None:
        await self._db.write(
            execute,
            "INSERT INTO signup_codes (code_hash, created_by, created_at, expires_at)"
            " VALUES (?, ?, strftime('%s', 'now'), ?)",
            (code_hash, created_by, expires_at),
        )

    async def claim_signup_code(self, code_hash: bytes, now: int) -> bool:
        """Reserve an unused, unexpired code; False if there is none."""

        def claim(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "UPDATE signup_codes SET used_by = ? WHERE code_hash = ?"
                " AND used_by IS NULL AND expires_at > ?",
                (_CLAIMED, code_hash, now),
            )
            return cursor.rowcount == 1

        return await self._db.write(claim)

    async def release_signup_code(self, code_hash: bytes) -> None:
        await self._db.write(
            execute,
            "UPDATE signup_codes SET used_by = NULL WHERE code_hash = ? AND used_by = ?",
            (code_hash, _CLAIMED),
        )

    async def spend_signup_code(self, code_hash: bytes, account_id: int) -> None:
        await self._db.write(
            execute,
            "UPDATE signup_codes SET used_by = ? WHERE code_hash = ?",
            (account_id, code_hash),
        )


def _account(row: sqlite3.Row) -> AccountRecord:
    return AccountRecord(
        row["id"],
        row["name"],
        row["public_key"],
        row["sealing_public_key"],
        bytes(row["locked_keys"]),
        bool(row["is_admin"]),
        row["display_name"],
        "removed" if row["removed_at"] else "disabled" if row["disabled_at"] else "active",
    )
