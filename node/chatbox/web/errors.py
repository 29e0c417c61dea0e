"""The one place errors become HTTP: JSON ``{error, detail}`` with the right status for the
API (and any client that does not ask for HTML), a small page for browsers on pages."""

from __future__ import annotations

import logging

from quart import Quart, Response, g, jsonify, render_template, request
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

import chatbox.errors as errors

log = logging.getLogger(__name__)

_STATUS = {
    errors.TooLarge: 413,
    errors.InvalidInput: 400,
    errors.NotFound: 404,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.RateLimited: 429,
    errors.Conflict: 409,
    errors.Unavailable: 503,
    errors.StorageFull: 507,
}


def status_of(error: errors.ChatboxError) -> int:
    for kind, status in _STATUS.items():
        if isinstance(error, kind):
            return status
    return 500


async def error_response(status: int, error: str, detail: str = "") -> Response:
    if _wants_page():
        body = await render_template(
            "error.html", error=error, detail=detail, member=g.get("member")
        )
        return Response(body, status=status, mimetype="text/html")
    response = jsonify({"error": error, "detail": detail})
    response.status_code = status
    return response


def install(app: Quart) -> None:
    """Register the handlers that give every failure the same shape."""

    @app.errorhandler(errors.ChatboxError)
    async def chatbox_error(error: errors.ChatboxError) -> Response:
        return await error_response(status_of(error), error.message, error.detail)

    @app.errorhandler(RequestSchemaValidationError)
    async def invalid_request(error: RequestSchemaValidationError) -> Response:
        return await error_response(400, "invalid request", _first_problem(error))

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Response:
        return await error_response(error.code or 500, error.name, error.description or "")

    @app.errorhandler(Exception)
    async def unexpected(error: Exception) -> Response:
        log.exception("unexpected error while serving a request")
        return await error_response(500, "internal error", "the box logged the details")


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
