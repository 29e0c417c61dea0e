"""What sync tells the status page: entries received, announcements refused, the last error."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chatbox.errors import Unavailable

log = logging.getLogger("chatbox.services.sync")


@dataclass
class SyncReport:
    received: int = 0
    rejected: int = 0
    last_error: str | None = None

    def unavailable(self, exc: Unavailable) -> None:
        """A daemon sync needs went away: logged once per distinct message."""
        if self.last_error != exc.message:
            detail = f" ({exc.detail})" if exc.detail else ""
            log.warning("sync with other boxes waits: %s%s", exc.message, detail)
        self.last_error = exc.message

    def task_failed(self, error: BaseException) -> bool:
        """For the task supervisor: a daemon that went away is reported, not logged as a bug."""
        if isinstance(error, Unavailable):
            self.unavailable(error)
            return True
        return False
