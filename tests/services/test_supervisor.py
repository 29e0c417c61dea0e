"""The one task supervisor the node, sync and peers share."""

from __future__ import annotations

import asyncio
import logging

import pytest

from chatbox.errors import IpfsUnavailable
from chatbox.services.supervisor import TaskSupervisor


async def test_a_failure_is_logged_a_handled_one_is_not_and_stop_cancels_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handled: list[BaseException] = []

    def take(error: BaseException) -> bool:
        handled.append(error)
        return isinstance(error, IpfsUnavailable)

    async def fail(error: Exception) -> None:
        raise error

    forever = asyncio.Event()
    tasks = TaskSupervisor("test", take)
    with caplog.at_level(logging.ERROR):
        tasks.spawn(fail(IpfsUnavailable("down")), "handled")
        tasks.spawn(fail(ValueError("a bug")), "logged")
        waiting = tasks.spawn(_wait(forever), "waiting")
        await asyncio.sleep(0.05)
    assert [type(error) for error in handled] == [IpfsUnavailable, ValueError]
    assert [r.getMessage() for r in caplog.records] == ["test: background task logged failed"]
    await tasks.stop(1.0)
    assert waiting.cancelled()


async def _wait(event: asyncio.Event) -> None:
    await event.wait()
