"""Accounts: each person on the box has an identity locked with their password.

The first account is the owner's (admin), made once through setup. Afterwards people sign
up themselves when the registration policy is ``open``, with a one-time code an admin
hands out when it is ``invite``, and not at all when it is ``closed``. The policy starts
from the settings file; an admin may change it in the UI.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from chatbox.domain.identity import Identity, fingerprint
from chatbox.domain.person_names import chosen_display_name
from chatbox.domain.sealing import DEFAULT_PASSWORD_COST, lock_with_password, unlock_with_password
from chatbox.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from chatbox.ports import AccountBook, PeopleDirectory, PersonRecord, Registration
from chatbox.ports import AccountRecord as AccountRecord  # what the faces are handed

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
REGISTRATION_POLICIES = ("open", "invite", "closed")
# Who may make public channels, which everyone on the box can see and join; anyone may
# make a private one, which only those invited read.
PUBLIC_CHANNEL_POLICIES = ("everyone", "admins")
ACCOUNT_STATES = ("active", "disabled")  # what an admin may set; removal is for good
SIGNUP_CODE_LIFETIME = 7 * 24 * 3600
RESET_CODE_LIFETIME = 15 * 60
MEMBER_RESET_LIFETIME = 24 * 3600  # an admin hands it over in person, maybe the next day
# Easy to read off a serial terminal and type on a phone: no 0/O or 1/I.
_RESET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}")
_POLICY_KEY = "registration"
_PUBLIC_CHANNELS_KEY = "public_channels"


@dataclass(frozen=True)
class Member:
    """An account whose keys are unlocked for this session."""

    account_id: int
    name: str  # the login name, which @mentions use too
    identity: Identity
    is_admin: bool
    display_name: str | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.identity.public_key)


class AccountService:
    def __init__(
        self,
        accounts: AccountBook,
        registration: Registration,
        directory: PeopleDirectory,
        default_policy: str = "invite",
        password_cost: int = DEFAULT_PASSWORD_COST,
    ) -> None:
        self._accounts = accounts
        self._registration = registration
        self._directory = directory
        self._default_policy = default_policy
        self._password_cost = password_cost
        self._setup_lock = asyncio.Lock()
        # (shown name, login name) by public key for this box's accounts, built together
        # from one read and dropped together when an account or a name changes.
        self._local_maps: tuple[dict[str, str], dict[str, str]] | None = None
        self._remote_names: Callable[[], Awaitable[dict[str, str]]] | None = None
        self._remote_handles: Callable[[], Awaitable[dict[str, tuple[str, str]]]] | None = None
        self._on_removed: list[Callable[[int], Awaitable[None]]] = []

    async def setup_admin(self, name: str, password: str) -> Member:
        """Create the owner's account; refused once any account exists."""
        async with self._setup_lock:
            if await self.has_accounts():
                raise Conflict("this box is already set up; log in instead")
            return await self.register(name, password, is_admin=True)

    async def sign_up(self, name: str, password: str, code: str | None) -> Member:
        """Create an ordinary account, as the registration policy allows."""
        if not await self.has_accounts():
            raise Forbidden("the owner has not set up this box yet")
        policy = await self.policy()
        if policy == "open":
            return await self.register(name, password)
        if policy == "closed":
            raise Forbidden("this box is not taking new accounts")
        if not isinstance(code, str) or not code:
            raise Forbidden("registration needs a sign-up code from an admin of this box")
        _check_credentials(name, password)
        digest = _code_hash(code)
        if not await self._registration.claim_signup_code(digest, int(time.time())):
            raise Forbidden("that sign-up code is unknown, used or expired")
        try:
            member = await self.register(name, password)
        except BaseException:
            await self._registration.release_signup_code(digest)
            raise
        await self._registration.spend_signup_code(digest, member.account_id)
        return member

    async def register(self, name: str, password: str, is_admin: bool = False) -> Member:
        """Create an account with fresh keys locked by ``password``."""
        _check_credentials(name, password)
        if await self._accounts.account_by_name(name) is not None:
            raise Conflict("an account with that name already exists")
        identity = Identity.generate()
        # scrypt is deliberately slow: keep it off the event loop.
        locked = await asyncio.to_thread(
            lock_with_password, identity.private_bytes(), password, self._password_cost
        )
        record = await self._accounts.add_account(
            name, identity.public_key, identity.sealing_public_key, locked, is_admin
        )
        self._local_maps = None
        return Member(record.id, record.name, identity, record.is_admin, record.display_name)

    async def unlock(self, name: str, password: str) -> Member:
        """Log in: the password unlocks the account's keys, or Unauthorized."""
        record = await self._accounts.account_by_name(name) if isinstance(name, str) else None
        if record is None or record.state == "removed" or not isinstance(password, str):
            raise Unauthorized("unknown account or wrong password")
        try:
            secret = await asyncio.to_thread(unlock_with_password, record.locked_keys, password)
        except Forbidden as exc:
            raise Unauthorized("unknown account or wrong password") from exc
        # Said only to whoever knows the password, so it tells a guesser nothing.
        if record.state == "disabled":
            raise Forbidden("an admin of this box has switched this account off")
        identity = Identity.from_private_bytes(secret)
        return Member(record.id, record.name, identity, record.is_admin, record.display_name)

    async def by_id(self, account_id: int) -> AccountRecord | None:
        return await self._accounts.account_by_id(account_id)

    async def has_accounts(self) -> bool:
        return await self.account_count() > 0

    async def account_count(self) -> int:
        return await self._accounts.account_count()

    async def policy(self) -> str:
        chosen = await self._registration.setting(_POLICY_KEY)
        return chosen if chosen in REGISTRATION_POLICIES else self._default_policy

    async def set_policy(self, admin: Member, policy: str) -> str:
        require_admin(admin)
        if policy not in REGISTRATION_POLICIES:
            raise InvalidInput("registration must be 'open', 'invite' or 'closed'")
        await self._registration.set_setting(_POLICY_KEY, policy)
        return policy

    async def public_channel_policy(self) -> str:
        chosen = await self._registration.setting(_PUBLIC_CHANNELS_KEY)
        return chosen if chosen in PUBLIC_CHANNEL_POLICIES else "everyone"

    async def set_public_channel_policy(self, admin: Member, policy: str) -> str:
        require_admin(admin)
        if policy not in PUBLIC_CHANNEL_POLICIES:
            raise InvalidInput("public_channels must be 'everyone' or 'admins'")
        await self._registration.set_setting(_PUBLIC_CHANNELS_KEY, policy)
        return policy

    async def may_create_public(self, member: Member) -> bool:
        return member.is_admin or await self.public_channel_policy() == "everyone"

    async def accounts(self, admin: Member) -> list[AccountRecord]:
        """Every account that was not removed, for the admin's list."""
        require_admin(admin)
        return [record for record in await self._accounts.accounts() if record.state != "removed"]

    async def set_state(self, admin: Member, name: str, state: str) -> AccountRecord:
        """Switch account ``name`` off (it cannot log in, its sessions end) or on again."""
        if state not in ACCOUNT_STATES:
            raise InvalidInput("state must be 'active' or 'disabled'")
        record = await self._other_account(admin, name)
        await self._accounts.set_disabled(record.id, state == "disabled")
        return replace(record, state=state)

    async def remove(self, admin: Member, name: str) -> AccountRecord:
        """Remove account ``name`` for good: its keys are erased and it leaves its channels.
        What it wrote stays under its name, which nobody new may take."""
        record = await self._other_account(admin, name)
        await self._accounts.remove_account(record.id)
        self._local_maps = None
        for react in self._on_removed:
            await react(record.id)
        return replace(record, state="removed", locked_keys=b"")

    def when_removed(self, react: Callable[[int], Awaitable[None]]) -> None:
        """Call ``react`` with the id of each account removed: what else it belonged to."""
        self._on_removed.append(react)

    async def _other_account(self, admin: Member, name: str) -> AccountRecord:
        require_admin(admin)
        record = await self._accounts.account_by_name(name) if isinstance(name, str) else None
        if record is None or record.state == "removed":
            raise NotFound("no account of that name on this box", detail=str(name)[:40])
        if record.id == admin.account_id:
            raise Conflict("an admin cannot switch off or remove their own account")
        return record

    async def new_signup_code(self, admin: Member) -> str:
        """A one-time code that lets one person sign up within a week."""
        require_admin(admin)
        code = _readable_code()
        expires = int(time.time()) + SIGNUP_CODE_LIFETIME
        await self._registration.add_signup_code(_code_hash(code), admin.account_id, expires)
        return code

    async def new_admin_reset_code(self) -> str:
        """A one-time code (15 minutes) to set a new password for an admin account.

        Only the serial console hands these out: whoever holds the box's console cable has
        the box anyway. The account gets new keys, since its old ones are locked by the
        forgotten password; its old messages keep its name.
        """
        code = _readable_code()
        expires = int(time.time()) + RESET_CODE_LIFETIME
        await self._registration.add_reset_code(_reset_hash(code), expires, None)
        return code

    async def new_reset_code(self, admin: Member, name: str) -> str:
        """A one-time code (a day) with which the member ``name``, who forgot their password,
        sets a new one; the admin hands it over in person."""
        require_admin(admin)
        record = await self._accounts.account_by_name(name) if isinstance(name, str) else None
        if record is None or record.state == "removed":
            raise NotFound("no account of that name on this box", detail=str(name)[:40])
        code = _readable_code()
        expires = int(time.time()) + MEMBER_RESET_LIFETIME
        await self._registration.add_reset_code(_reset_hash(code), expires, record.id)
        return code

    async def reset_password(self, name: str, code: str, password: str) -> Member:
        """Give account ``name`` new keys locked by ``password``, spending ``code``: one an
        admin made for this account, or (for an admin) one from the serial console."""
        _check_credentials(name, password)
        record = await self._accounts.account_by_name(name)
        if record is None or record.state == "removed":
            raise Unauthorized("that reset code is unknown, used, expired or for another account")
        if not isinstance(code, str) or not code.strip():
            raise Unauthorized("a reset code from an admin (or the serial console) is needed")
        identity = Identity.generate()
        locked = await asyncio.to_thread(
            lock_with_password, identity.private_bytes(), password, self._password_cost
        )
        keys = (identity.public_key, identity.sealing_public_key, locked)
        digest = _reset_hash(code)
        now = int(time.time())
        if not await self._registration.rekey_with_code(
            digest, now, record.id, keys, any_admin_code=record.is_admin
        ):
            raise Unauthorized("that reset code is unknown, used, expired or for another account")
        self._local_maps = None
        return Member(record.id, record.name, identity, record.is_admin, record.display_name)

    async def people(self) -> list[PersonRecord]:
        return await self._directory.people()

    async def set_display_name(self, member: Member, text: str) -> str | None:
        """Show ``member`` as ``text`` from now on, here and on the boxes they post to; a
        blank ``text`` goes back to the login name. Returns the name kept."""
        display_name = chosen_display_name(text)
        await self._directory.set_display_name(member.account_id, display_name)
        self._local_maps = None
        return display_name

    async def handles(self) -> dict[str, str]:
        """Login name by public key, for this box's accounts: how to @mention them."""
        return (await self._local())[1]

    async def names(self) -> dict[str, str]:
        """Shown name by public key: this box's accounts, and authors other boxes named."""
        local = await self.local_names()
        if self._remote_names is None:
            return local
        return {**await self._remote_names(), **local}

    async def local_names(self) -> dict[str, str]:
        """Shown name by public key, for the accounts on this box only."""
        return (await self._local())[0]

    async def _local(self) -> tuple[dict[str, str], dict[str, str]]:
        if self._local_maps is None:
            people = await self.people()
            current = {person.public_key: person.shown_name for person in people}
            shown = {**await self._directory.former_names(), **current}
            self._local_maps = (shown, {person.public_key: person.name for person in people})
        return self._local_maps

    def also_name_from(
        self,
        source: Callable[[], Awaitable[dict[str, str]]],
        handles: Callable[[], Awaitable[dict[str, tuple[str, str]]]] | None = None,
    ) -> None:
        """Let ``source`` name authors of other boxes, and ``handles`` give their login
        names and boxes (for mentions); this box's names always win."""
        self._remote_names = source
        self._remote_handles = handles

    async def remote_handles(self) -> dict[str, tuple[str, str]]:
        """Key -> (login name, box name) of people on other boxes their box introduced."""
        return {} if self._remote_handles is None else await self._remote_handles()

    async def seen(self, member: Member) -> None:
        await self._directory.touch(member.account_id, int(time.time()))


def _check_credentials(name: str, password: str) -> None:
    if not isinstance(name, str) or not _ACCOUNT_NAME.fullmatch(name):
        raise InvalidInput("account name must be 1 to 32 letters, digits, '_', '.' or '-'")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"password must be at most {MAX_PASSWORD_LENGTH} characters")


def require_admin(member: Member) -> None:
    """Forbidden unless ``member`` is an admin: the one check every admin action makes."""
    if not member.is_admin:
        raise Forbidden("only an admin of this box may do that")


def _readable_code() -> str:
    """Ten characters without look-alikes (no 0/O, no 1/I), as XXXXX-XXXXX: about 50 bits,
    easy to read aloud, off a terminal or a note, and to type on a phone."""
    raw = "".join(secrets.choice(_RESET_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _typed(code: str) -> bytes:
    """A code as typed, in any case, with or without its dash and spaces."""
    return code.strip().upper().replace("-", "").replace(" ", "").encode()


def _code_hash(code: str) -> bytes:
    return hashlib.sha256(b"chatbox-signup\n" + _typed(code)).digest()


def _reset_hash(code: str) -> bytes:
    return hashlib.sha256(b"chatbox-admin-reset\n" + _typed(code)).digest()
