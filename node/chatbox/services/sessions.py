"""Login sessions that survive a restart without keeping anyone's keys in the clear.

The browser holds a random token in an HttpOnly cookie. The box keeps only the token's
hash and the account's private keys sealed with a key derived from the token, so the
database alone unlocks no one; the token alone does not exist anywhere on the box.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace

from chatbox.domain.identity import Identity
from chatbox.domain.sealing import open_sealed, seal
from chatbox.ports import AccountRecord, SessionBook
from chatbox.services.accounts import AccountService, Member
from chatbox.services.login_throttle import LoginThrottle

SESSION_LIFETIME = 30 * 24 * 3600
_CACHE_SIZE = 256


class SessionService:
    def __init__(
        self,
        accounts: AccountService,
        sessions: SessionBook,
        throttle: LoginThrottle | None = None,
        lifetime: int = SESSION_LIFETIME,
        welcome: Callable[[Member], Awaitable[object]] | None = None,
    ) -> None:
        self._accounts = accounts
        self._sessions = sessions
        self._throttle = throttle or LoginThrottle()
        self._lifetime = lifetime
        self._welcome = welcome  # what a new session brings: the card, waiting conversations
        self._cache: OrderedDict[bytes, tuple[Member, int]] = OrderedDict()

    async def login(self, name: str, password: str, client: str) -> tuple[str, Member]:
        """Check the password and open a session; returns the cookie token and the member."""
        async with self._throttle.attempt("login", name, client):
            member = await self._accounts.unlock(name, password)
        return await self.open(member), member

    async def reset_password(
        self, name: str, code: str, password: str, client: str
    ) -> tuple[str, Member]:
        """Set a new password with a reset code (an admin's, or the console's for an admin);
        throttled like logins."""
        async with self._throttle.attempt("reset", name, client):
            member = await self._accounts.reset_password(name, code, password)
        self._cache.clear()  # the account's other sessions were ended in the store
        return await self.open(member), member

    async def rename(self, member: Member, display_name: str) -> Member:
        """Set the member's display name; their sessions show it from the next request."""
        kept = await self._accounts.set_display_name(member, display_name)
        self._cache.clear()  # cached sessions hold the old name
        return replace(member, display_name=kept)

    async def set_account_state(self, admin: Member, name: str, state: str) -> AccountRecord:
        """An admin switches an account off or on; switched off, its sessions end at once."""
        record = await self._accounts.set_state(admin, name, state)
        self._cache.clear()
        return record

    async def remove_account(self, admin: Member, name: str) -> AccountRecord:
        record = await self._accounts.remove(admin, name)
        self._cache.clear()
        return record

    async def open(self, member: Member) -> str:
        """A new session for an already unlocked member (after setup or sign-up)."""
        token = secrets.token_urlsafe(32)
        sealed = seal(_token_key(token), member.identity.private_bytes(), _aad(member.account_id))
        expires = int(time.time()) + self._lifetime
        await self._sessions.add_session(_token_hash(token), member.account_id, sealed, expires)
        if self._welcome is not None:
            await self._welcome(member)
        return token

    async def resolve(self, token: str | None) -> Member | None:
        """The member a cookie token stands for, or None if it is unknown or expired."""
        if not token or len(token) > 128:
            return None
        digest = _token_hash(token)
        now = int(time.time())
        cached = self._cache.get(digest)
        if cached is not None and cached[1] > now:
            self._cache.move_to_end(digest)
            return cached[0]
        member = await self._load(token, digest, now)
        if member is not None:
            self._remember(digest, member, now)
        return member

    async def logout(self, token: str | None) -> None:
        if token:
            digest = _token_hash(token)
            self._cache.pop(digest, None)
            await self._sessions.delete_session(digest)

    @staticmethod
    def csrf_token(token: str) -> str:
        """The anti-CSRF token bound to a session; pages and API clients send it back."""
        return hmac.new(token.encode(), b"chatbox-csrf", hashlib.sha256).hexdigest()

    async def _load(self, token: str, digest: bytes, now: int) -> Member | None:
        record = await self._sessions.session(digest, now)
        if record is None:
            return None
        account = await self._accounts.by_id(record.account_id)
        if account is None or account.state != "active":
            return None
        secret = open_sealed(_token_key(token), record.sealed_keys, _aad(account.id))
        identity = Identity.from_private_bytes(secret)
        return Member(account.id, account.name, identity, account.is_admin, account.display_name)

    def _remember(self, digest: bytes, member: Member, now: int) -> None:
        # Re-read from the store now and then so a deleted session ends everywhere.
        self._cache[digest] = (member, now + 60)
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(b"chatbox-session-id\n" + token.encode()).digest()


def _token_key(token: str) -> bytes:
    return hashlib.sha256(b"chatbox-session-key\n" + token.encode()).digest()


def _aad(account_id: int) -> bytes:
    return f"chatbox-session\n{account_id}".encode()
