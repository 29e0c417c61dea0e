"""The one place errors become HTTP: JSON ``{error, detail, code}`` with the right status
for the API (and any client that does not ask for HTML), a small page for browsers on pages.

``error`` is a sentence for a person, ``detail`` what exactly was wrong (may be empty) and
``code`` a stable name for programs: the error class's ``code``, or the HTTP reason in
snake case for what the framework refuses itself (``method_not_allowed``).
"""

from __future__ import annotations

import logging
import math

from quart import Quart, Response, g, jsonify, render_template, request
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

import chatbox.errors as errors
from chatbox.web.i18n import N_
from chatbox.web.i18n import gettext as _

log = logging.getLogger(__name__)
Headers = dict[str, str] | None

# Every class by name, so a new one must be given its status here (a test holds that).
STATUS: dict[type[errors.ChatboxError], int] = {
    errors.ChatboxError: 500,
    errors.InvalidInput: 400,
    errors.InvalidEnvelope: 400,
    errors.TooLarge: 413,
    errors.NotFound: 404,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.RateLimited: 429,
    errors.Conflict: 409,
    # A setting the owner must fix: the box cannot do this until then.
    errors.ConfigError: 503,
    errors.Unavailable: 503,
    errors.Disconnected: 503,
    errors.IpfsUnavailable: 503,
    errors.ChainUnavailable: 503,
    errors.StorageFull: 507,
    # The chain, upstream of the box, refused the transaction.
    errors.ChainRejected: 502,
    # The request was understood; what it names does not verify.
    errors.NotVerified: 422,
}


# What the framework refuses by itself that a person may meet, in words for them: the
# error keeps the framework's name, the detail says what to do.
FRAMEWORK_WORDS = {
    404: (
        N_("Not Found"),
        N_("There is nothing at this address. Check it, or start again from the chat."),
    ),
    405: (N_("Method Not Allowed"), N_("This address does not take that kind of request.")),
    413: (N_("Request Entity Too Large"), N_("That is more than this box takes at once.")),
}


def status_of(error: errors.ChatboxError) -> int:
    """The status of the error's own class, else of its nearest listed ancestor."""
    return next(STATUS[kind] for kind in type(error).__mro__ if kind in STATUS)


async def error_response(
    status: int, error: str, detail: str = "", code: str = "error", headers: Headers = None
) -> Response:
    if _wants_page():
        body = await render_template(
            "error.html", error=error, detail=detail, member=g.get("member")
        )
        response = Response(body, status=status, mimetype="text/html")
    else:
        response = jsonify({"error": error, "detail": detail, "code": code})
        response.status_code = status
    response.headers.update(headers or {})
    return response


def install(app: Quart) -> None:
    """Register the handlers that give every failure the same shape."""

    @app.errorhandler(errors.ChatboxError)
    async def chatbox_error(error: errors.ChatboxError) -> Response:
        headers = _retry_after(error)
        # The sentence in the reader's language; ``code`` is what programs compare.
        return await error_response(
            status_of(error), _(error.message), error.detail, error.code, headers
        )

    @app.errorhandler(RequestSchemaValidationError)
    async def invalid_request(error: RequestSchemaValidationError) -> Response:
        problem = _first_problem(error)
        return await error_response(400, _("invalid request"), problem, errors.InvalidInput.code)

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Response:
        code = error.name.lower().replace(" ", "_").replace("'", "")
        name, detail = FRAMEWORK_WORDS.get(error.code or 500, (error.name, error.description))
        said = _(detail) if detail else ""
        return await error_response(error.code or 500, _(name), said, code)

    @app.errorhandler(Exception)
    async def unexpected(error: Exception) -> Response:
        log.exception("unexpected error while serving a request")
        return await error_response(
            500, _("internal error"), _("the box logged the details"), "internal"
        )


def _retry_after(error: errors.ChatboxError) -> dict[str, str]:
    seconds = error.retry_after if isinstance(error, errors.RateLimited) else None
    return {} if seconds is None else {"Retry-After": str(max(1, math.ceil(seconds)))}


def _wants_page() -> bool:
    if request.path.startswith("/api/") or request.path == "/healthz":
        return False
    return "text/html" in request.headers.get("Accept", "")


def _first_problem(error: RequestSchemaValidationError) -> str:
    cause = error.validation_error
    problems = getattr(cause, "errors", None)
    if callable(problems):
        first = problems()[0] if problems() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", ""))
    return str(cause or "request body does not match the schema")[:200]
