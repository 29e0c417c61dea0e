"""create_app(services, ...) -> the Quart application: pages, JSON API, live events."""

from __future__ import annotations

from quart import Quart, Response, g, jsonify, request
from quart_schema import Info, QuartSchema

from chatbox.domain.envelope import MAX_TEXT_CHARS
from chatbox.web import api, compression, errors, events, i18n, security, session, ui, webapp
from chatbox.web.context import WebServices
from chatbox.web.downloads import INLINE_IMAGES
from chatbox.web.json_body import StrictJsonRequest

__all__ = ["WebServices", "create_app"]

# API endpoints that answer without a session.
PUBLIC_API = frozenset(
    {"api.setup", "api.sign_up", "api.log_in", "api.reset_admin", "api.status", "openapi"}
)


def create_app(
    services: WebServices,
    upload_limit: int,
    box_name: str = "chatbox",
    version: str = "",
    keepalive: float = events.KEEPALIVE_SECONDS,
) -> Quart:
    app = Quart(__name__)
    app.request_class = StrictJsonRequest
    # Quart refuses larger bodies before reading them; uploads are bounded again as they stream.
    app.config["MAX_CONTENT_LENGTH"] = upload_limit + 64 * 1024
    QuartSchema(
        app,
        openapi_path="/api/v1/openapi.json",
        redoc_ui_path=None,
        scalar_ui_path=None,
        swagger_ui_path=None,
        info=Info(title="chatbox", version=version or "unknown"),
    )
    errors.install(app)
    security.install(app)
    compression.install(app)
    app.jinja_env.globals.update(
        box_name=box_name, inline_images=INLINE_IMAGES, max_text=MAX_TEXT_CHARS
    )
    languages = i18n.load()
    _install_languages(app, languages)

    @app.before_request
    async def identify() -> None:
        g.language = i18n.choose(
            languages, request.cookies.get(i18n.COOKIE), request.accept_languages
        )
        await session.load(services.sessions)
        # Logged-out callers learn nothing from the API, not even how their input was wrong.
        if request.path.startswith("/api/") and request.endpoint not in PUBLIC_API:
            session.member()
        security.check_request()

    @app.get("/healthz")
    async def healthz() -> Response:
        """200 while the node can store posts and serve pages; systemd's watchdog asks."""
        await services.status.check_health()
        return jsonify({"ok": True})

    app.register_blueprint(api.blueprint(services))
    app.register_blueprint(events.blueprint(services, keepalive))
    app.register_blueprint(ui.blueprint(services, upload_limit))
    app.register_blueprint(webapp.blueprint(box_name))
    return app


def _install_languages(app: Quart, languages: dict[str, i18n.Language]) -> None:
    """Templates say ``_("…")`` and ``{% trans %}``; each render asks the request's language."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # as scripts/strings.py extracts them
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda text: i18n.current().gettext(text),
        lambda singular, plural, count: i18n.current().ngettext(singular, plural, count),
        newstyle=True,
    )

    @app.context_processor
    async def language() -> dict[str, object]:
        return {"language": i18n.current(), "languages": languages}
