"""Background tasks owned by one part of the node: each kept referenced (so the loop does
not drop it), a failure logged rather than lost, and all of them cancelled together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TaskSupervisor:
    def __init__(self, owner: str, on_failure: Callable[[BaseException], bool] | None = None):
        """``on_failure`` may take a failure in hand (returning True); the rest are logged."""
        self._owner = owner
        self._on_failure = on_failure
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], name: str = "") -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name or None)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def stop(self, timeout: float) -> None:
        """Cancel every task and wait up to ``timeout`` seconds for them to end."""
        self.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=timeout)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        error = None if task.cancelled() else task.exception()
        if error is not None and not (self._on_failure and self._on_failure(error)):
            log.error("%s: background task %s failed", self._owner, task.get_name(), exc_info=error)
