"""Slowing password guessing without locking the owner out.

Three counts, each over a sliding window:

- **name and address**: a few free failures, then each further one doubles the wait
  before that address may try that name again (refused with ``retry_after``);
- **address**: one address guessing many names is refused for the rest of the window;
- **name**: many failures on one name from anywhere only *delay* every attempt at it, the
  right password included, so guesses spread over many addresses stay slow while the
  owner, from a device that has not failed, still gets in a moment later.

An attempt still being checked counts as a failure until it is known, so guesses sent
all at once are held to the same counts as guesses sent one by one. Failures are kept in
memory: a restart forgets them, which costs an attacker the restart time a hundred times
over.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from chatbox.errors import ChatboxError, RateLimited

_MAX_TRACKED = 4096


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 3  # per name and address, before the doubling wait
    first_wait: float = 2.0  # seconds after the first failure past the free ones
    longest_wait: float = 300.0
    address_failures: int = 30  # per address over every name, within the window
    name_failures: int = 10  # per name over every address, within the window
    name_delay: float = 2.0  # seconds every attempt at such a name waits
    window: float = 600.0


class LoginThrottle:
    def __init__(
        self,
        policy: ThrottlePolicy = ThrottlePolicy(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._failures: dict[str, list[float]] = {}
        self._in_flight: dict[str, int] = {}

    @contextlib.asynccontextmanager
    async def attempt(self, scope: str, name: str, client: str) -> AsyncIterator[None]:
        """Admit one password check: a ChatboxError out of it is a failure, a normal end a
        success, and anything else (the client went away) counts as neither."""
        await self.admit(scope, name, client)
        try:
            yield
        except ChatboxError:
            self.failed(scope, name, client)
            raise
        except BaseException:
            self._release(scope, name, client)
            raise
        self.succeeded(scope, name, client)

    async def admit(self, scope: str, name: str, client: str) -> None:
        """Wait or refuse before checking a password for ``name`` from ``client``."""
        policy, now = self._policy, self._clock()
        pair_key, address_key, name_key = _keys(scope, name, client)
        pair = self._recent(pair_key)
        excess = self._count(pair_key) - policy.free_failures
        if excess >= 0:
            wait = min(policy.first_wait * 2**excess, policy.longest_wait)
            # With only attempts still being checked, wait as if one had just failed.
            remaining = pair[-1] + wait - now if pair else wait
            if remaining > 0:
                raise RateLimited(
                    f"too many wrong attempts from this device; try again in {_spoken(remaining)}",
                    detail=f"{len(pair)} failures",
                    retry_after=remaining,
                )
        at_address = self._recent(address_key)
        if len(at_address) + self._in_flight.get(address_key, 0) >= policy.address_failures:
            raise RateLimited(
                "too many wrong attempts from this device; try again later",
                detail=f"{len(at_address)} failures in {policy.window:.0f} s",
                retry_after=(at_address[0] if at_address else now) + policy.window - now,
            )
        delayed = self._count(name_key) >= policy.name_failures
        for key in (pair_key, address_key, name_key):
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
        if delayed:
            try:
                await asyncio.sleep(policy.name_delay)
            except BaseException:  # the client went away while it waited
                self._release(scope, name, client)
                raise

    def failed(self, scope: str, name: str, client: str) -> None:
        self._release(scope, name, client)
        now = self._clock()
        if len(self._failures) > _MAX_TRACKED:  # forget the quiet ones, so memory stays bounded
            horizon = now - self._policy.window
            self._failures = {k: v for k, v in self._failures.items() if v and v[-1] > horizon}
        for key in _keys(scope, name, client):
            self._failures.setdefault(key, []).append(now)

    def succeeded(self, scope: str, name: str, client: str) -> None:
        """The device proved it knows the password: its own count starts again."""
        self._release(scope, name, client)
        self._failures.pop(_pair(scope, name, client), None)

    def _release(self, scope: str, name: str, client: str) -> None:
        for key in _keys(scope, name, client):
            left = self._in_flight.get(key, 0) - 1
            if left > 0:
                self._in_flight[key] = left
            else:
                self._in_flight.pop(key, None)

    def _count(self, key: str) -> int:
        """Failures within the window, and attempts still being checked."""
        return len(self._recent(key)) + self._in_flight.get(key, 0)

    def _recent(self, key: str) -> list[float]:
        horizon = self._clock() - self._policy.window
        recent = [moment for moment in self._failures.pop(key, []) if moment > horizon]
        if recent:
            self._failures[key] = recent
        return recent


def _keys(scope: str, name: str, client: str) -> tuple[str, str, str]:
    return (_pair(scope, name, client), _address(client), _name(scope, name))


def _pair(scope: str, name: str, client: str) -> str:
    return f"{scope}:{name.casefold()}@{client}"


def _address(client: str) -> str:
    return f"address:{client}"


def _name(scope: str, name: str) -> str:
    return f"{scope}:{name.casefold()}"


def _spoken(seconds: float) -> str:
    whole = max(1, round(seconds))
    return f"{whole} seconds" if whole < 120 else f"{round(whole / 60)} minutes"
