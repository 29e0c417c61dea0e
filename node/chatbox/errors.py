"""One error hierarchy for the whole node.

Every error carries a user-safe ``message``, an optional ``detail`` and a stable ``code``
that the JSON API sends as it is; faces translate them at their boundary
(``web/errors.py`` gives each class its HTTP status, the CLI prints one line) and nothing
else inspects library exceptions.

    ChatboxError
     ├── InvalidInput            bad request data: malformed JSON, bad names, bad CIDs
     │    ├── InvalidEnvelope    bytes that are not a well-formed, correctly signed entry
     │    └── TooLarge           an upload or message over its configured limit
     ├── NotFound                unknown channel, message or file
     ├── Unauthorized            no valid session, or a login refused: log in (again)
     ├── Forbidden               not allowed: not an admin, closed sign-up, failed CSRF check
     ├── RateLimited             too many attempts (logins); ``retry_after`` seconds
     ├── Conflict                already exists, or not possible in the box's state
     ├── ConfigError             an invalid setting; names the key
     ├── StorageFull             the write would eat into the disk reserve
     ├── ChainRejected           the chain refused a transaction outright
     ├── NotVerified             a proof that does not hold
     └── Unavailable             a daemon the node depends on is down or too slow
          ├── IpfsUnavailable
          ├── ChainUnavailable
          └── Disconnected       the serial console's cable was unplugged
"""

from __future__ import annotations


class ChatboxError(Exception):
    """Base of every error the node raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InvalidInput(ChatboxError):
    code = "invalid_input"


class InvalidEnvelope(InvalidInput):
    code = "invalid_envelope"


class TooLarge(InvalidInput):
    code = "too_large"


class NotFound(ChatboxError):
    code = "not_found"


class Unauthorized(ChatboxError):
    code = "unauthorized"


class Forbidden(ChatboxError):
    code = "forbidden"


class RateLimited(ChatboxError):
    """Too many attempts; ``retry_after`` says in how many seconds one is taken again."""

    code = "rate_limited"

    def __init__(self, message: str, *, detail: str = "", retry_after: float | None = None):
        super().__init__(message, detail=detail)
        self.retry_after = retry_after


class Conflict(ChatboxError):
    code = "conflict"


class ConfigError(ChatboxError):
    """An invalid setting. ``key`` names it so the owner knows what to fix."""

    code = "config_error"

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"setting {key!r}: {message}")
        self.key = key


class Unavailable(ChatboxError):
    code = "unavailable"


class Disconnected(Unavailable):
    """The serial console's cable was unplugged (or its device vanished)."""

    code = "disconnected"


class StorageFull(ChatboxError):
    """The box keeps its disk reserve free: the post or upload would eat into it."""

    code = "storage_full"


class IpfsUnavailable(Unavailable):
    code = "ipfs_unavailable"


class ChainUnavailable(Unavailable):
    code = "chain_unavailable"


class ChainRejected(ChatboxError):
    """The chain refused a transaction outright (it would revert, or the key is unfunded)."""

    code = "chain_rejected"


class NotVerified(ChatboxError):
    """A proof that does not hold; ``message`` says which link of it broke."""

    code = "not_verified"
