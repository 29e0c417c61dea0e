"""Accounts: each person on the box has an identity locked with their password."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from chatbox.domain.identity import Identity, fingerprint
from chatbox.domain.sealing import DEFAULT_PASSWORD_COST, lock_with_password, unlock_with_password
from chatbox.errors import Forbidden, InvalidInput
from chatbox.ports import LogStore

MIN_PASSWORD_LENGTH = 8
_ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}")


@dataclass(frozen=True)
class Member:
    """An account whose keys are unlocked for this session."""

    account_id: int
    name: str
    identity: Identity
    is_admin: bool

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.identity.public_key)


class AccountService:
    def __init__(self, store: LogStore, password_cost: int = DEFAULT_PASSWORD_COST) -> None:
        self._store = store
        self._password_cost = password_cost

    async def register(self, name: str, password: str, is_admin: bool = False) -> Member:
        """Create an account with fresh keys locked by ``password``."""
        _check_account_name(name)
        if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInput(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
        identity = Identity.generate()
        # scrypt is deliberately slow: keep it off the event loop.
        locked = await asyncio.to_thread(
            lock_with_password, identity.private_bytes(), password, self._password_cost
        )
        record = await self._store.add_account(
            name, identity.public_key, identity.sealing_public_key, locked, is_admin
        )
        return Member(record.id, record.name, identity, record.is_admin)

    async def unlock(self, name: str, password: str) -> Member:
        """Log in: the password unlocks the account's keys, or Forbidden."""
        record = await self._store.account_by_name(name) if isinstance(name, str) else None
        if record is None or not isinstance(password, str):
            raise Forbidden("unknown account or wrong password")
        try:
            secret = await asyncio.to_thread(unlock_with_password, record.locked_keys, password)
        except Forbidden as exc:
            raise Forbidden("unknown account or wrong password") from exc
        return Member(record.id, record.name, Identity.from_private_bytes(secret), record.is_admin)

    async def has_accounts(self) -> bool:
        return await self._store.account_count() > 0


def _check_account_name(name: str) -> None:
    if not isinstance(name, str) or not _ACCOUNT_NAME.fullmatch(name):
        raise InvalidInput("account name must be 1 to 32 letters, digits, '_', '.' or '-'")
