"""The login throttle's arithmetic, on a clock the test moves."""

from __future__ import annotations

import asyncio
import time

import pytest

from chatbox.errors import RateLimited, Unauthorized
from chatbox.services.login_throttle import LoginThrottle, ThrottlePolicy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_wait_doubles_with_each_failure_past_the_free_ones() -> None:
    clock = Clock()
    throttle = LoginThrottle(ThrottlePolicy(), clock)
    for _ in range(3):
        throttle.failed("login", "owner", "10.0.0.9")
    waits = []
    for _ in range(5):
        with pytest.raises(RateLimited) as refused:
            await throttle.admit("login", "owner", "10.0.0.9")
        wait = refused.value.retry_after or 0.0
        waits.append(wait)
        clock.now += wait
        await throttle.admit("login", "owner", "10.0.0.9")  # the wait is over
        throttle.failed("login", "owner", "10.0.0.9")
    assert waits == [2.0, 4.0, 8.0, 16.0, 32.0]


async def test_free_failures_refuse_nothing() -> None:
    clock = Clock()
    throttle = LoginThrottle(ThrottlePolicy(), clock)
    for _ in range(3):
        await throttle.admit("login", "owner", "10.0.0.9")
        throttle.failed("login", "owner", "10.0.0.9")
    with pytest.raises(RateLimited):
        await throttle.admit("login", "owner", "10.0.0.9")
    await throttle.admit("login", "owner", "10.0.0.10")  # another device is not refused
    await throttle.admit("reset", "owner", "10.0.0.9")  # nor is a reset by the same one


async def test_one_address_guessing_many_names_is_refused() -> None:
    clock = Clock()
    throttle = LoginThrottle(ThrottlePolicy(address_failures=6), clock)
    for number in range(6):
        await throttle.admit("login", f"name{number}", "10.0.0.9")
        throttle.failed("login", f"name{number}", "10.0.0.9")
    with pytest.raises(RateLimited):
        await throttle.admit("login", "someone-new", "10.0.0.9")
    clock.now += 601
    await throttle.admit("login", "someone-new", "10.0.0.9")


async def test_many_failures_on_one_name_delay_everyone_but_refuse_no_one() -> None:
    throttle = LoginThrottle(ThrottlePolicy(name_failures=4, name_delay=0.2))
    for number in range(4):
        throttle.failed("login", "owner", f"10.0.1.{number}")
    started = time.monotonic()
    await throttle.admit("login", "owner", "10.0.0.7")
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    await throttle.admit("login", "guest", "10.0.0.7")
    assert time.monotonic() - started < 0.2


async def test_a_success_clears_its_own_device_only() -> None:
    clock = Clock()
    throttle = LoginThrottle(ThrottlePolicy(free_failures=1), clock)
    throttle.failed("login", "owner", "10.0.0.9")
    throttle.failed("login", "owner", "10.0.0.8")
    clock.now += 2.5
    throttle.succeeded("login", "owner", "10.0.0.9")
    await throttle.admit("login", "owner", "10.0.0.9")
    throttle.failed("login", "owner", "10.0.0.8")
    with pytest.raises(RateLimited):
        await throttle.admit("login", "owner", "10.0.0.8")


async def test_guesses_sent_all_at_once_are_held_to_the_same_counts() -> None:
    throttle = LoginThrottle(ThrottlePolicy())
    outcomes: list[str] = []

    async def guess() -> None:
        try:
            async with throttle.attempt("login", "owner", "10.0.0.66"):
                await asyncio.sleep(0.05)  # the password check, still running
                raise Unauthorized("wrong password")
        except RateLimited:
            outcomes.append("refused")
        except Unauthorized:
            outcomes.append("checked")

    await asyncio.gather(*(guess() for _ in range(50)))
    assert outcomes.count("checked") == 3  # the free failures, and not one more
    await throttle.admit("login", "owner", "10.0.0.7")  # another device still gets in


async def test_an_attempt_given_up_midway_counts_nothing() -> None:
    throttle = LoginThrottle(ThrottlePolicy(free_failures=1))
    with pytest.raises(asyncio.CancelledError):
        async with throttle.attempt("login", "owner", "10.0.0.9"):
            raise asyncio.CancelledError
    async with throttle.attempt("login", "owner", "10.0.0.9"):
        pass  # admitted: the given-up attempt left no failure and nothing in flight
