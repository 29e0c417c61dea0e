"""create_app(services, settings) -> the Quart application."""

from __future__ import annotations

from dataclasses import dataclass

from quart import Quart, Response, jsonify

from chatbox.services.status import StatusService
from chatbox.web import errors


@dataclass(frozen=True)
class WebServices:
    status: StatusService


def create_app(services: WebServices, upload_limit: int) -> Quart:
    app = Quart("chatbox")
    # Quart refuses larger bodies itself; file uploads stream and are bounded again there.
    app.config["MAX_CONTENT_LENGTH"] = upload_limit + 64 * 1024
    errors.install(app)

    @app.get("/healthz")
    async def healthz() -> Response:
        return jsonify({"ok": True})

    @app.get("/api/v1/status")
    async def status() -> Response:
        return jsonify(await services.status.status())

    return app
