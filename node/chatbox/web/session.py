"""Who is asking: the session cookie resolved to a member, once per request.

Routes call ``member()`` (JSON 401 when logged out) or read ``g.member`` (pages redirect).
"""

from __future__ import annotations

from quart import Response, g, request

from chatbox.errors import Unauthorized
from chatbox.services.accounts import Member
from chatbox.services.sessions import SESSION_LIFETIME, SessionService

COOKIE = "chatbox_session"


async def load(sessions: SessionService) -> None:
    """Resolve the cookie into ``g.member`` (or None) and ``g.token``."""
    token = request.cookies.get(COOKIE)
    g.token = token
    g.member = await sessions.resolve(token)


def member() -> Member:
    """The logged-in member, or Unauthorized."""
    current: Member | None = g.get("member")
    if current is None:
        raise Unauthorized("log in first")
    return current


def set_cookie(response: Response, token: str, secure: bool) -> None:
    # HttpOnly: scripts never see the token. Strict: no other site's page sends it.
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_LIFETIME,
        httponly=True,
        samesite="Strict",
        secure=secure,
        path="/",
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Strict")
