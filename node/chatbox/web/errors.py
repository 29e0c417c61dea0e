"""The one place errors become HTTP: always JSON ``{error, detail}`` with the right status."""

from __future__ import annotations

import logging

from quart import Quart, Response, jsonify
from werkzeug.exceptions import HTTPException

import chatbox.errors as errors

log = logging.getLogger(__name__)

_STATUS = {
    errors.TooLarge: 413,
    errors.InvalidInput: 400,
    errors.NotFound: 404,
    errors.Forbidden: 403,
    errors.Conflict: 409,
    errors.Unavailable: 503,
}


def status_of(error: errors.ChatboxError) -> int:
    for kind, status in _STATUS.items():
        if isinstance(error, kind):
            return status
    return 500


def error_response(status: int, error: str, detail: str = "") -> Response:
    response = jsonify({"error": error, "detail": detail})
    response.status_code = status
    return response


def install(app: Quart) -> None:
    """Register the handlers that give every failure the same JSON shape."""

    @app.errorhandler(errors.ChatboxError)
    async def chatbox_error(error: errors.ChatboxError) -> Response:
        return error_response(status_of(error), error.message, error.detail)

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Response:
        return error_response(error.code or 500, error.name, error.description or "")

    @app.errorhandler(Exception)
    async def unexpected(error: Exception) -> Response:
        log.exception("unexpected error while serving a request")
        return error_response(500, "internal error", "the box logged the details")
