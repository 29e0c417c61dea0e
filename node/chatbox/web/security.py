"""Headers every response carries, and the CSRF check on every state-changing request.

A change is accepted only when (1) the browser does not say it came from another site
(``Sec-Fetch-Site``, ``Origin``), and (2) with a session, it carries the session's CSRF
token in ``X-CSRF-Token``. JSON routes also need a JSON body, which a cross-site HTML form
cannot send. The session cookie is SameSite=Strict besides.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from quart import Quart, Response, g, request

from chatbox.errors import Forbidden
from chatbox.services.sessions import SessionService

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


def install(app: Quart) -> None:
    @app.after_request
    async def add_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Cache-Control", "no-store")
        return response


def check_request() -> None:
    """Refuse a state-changing request that another site could have sent."""
    if request.method in SAFE_METHODS:
        return
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        raise Forbidden("cross-site request refused")
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        raise Forbidden("cross-site request refused", detail=f"origin {origin[:80]}")
    token: str | None = g.get("token")
    if g.get("member") is not None and token:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent, SessionService.csrf_token(token)):
            raise Forbidden("missing or wrong CSRF token", detail=f"send the {CSRF_HEADER} header")
