"""Server-rendered pages. Each page works from its HTML; ``static/app.js`` adds live updates.

Logged-out visitors are sent to setup (first run) or login; the JSON API does the changes.
"""

from __future__ import annotations

import time
from typing import Any

from quart import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from chatbox.domain.search_words import MAX_QUERY_CHARS
from chatbox.errors import InvalidInput, NotFound
from chatbox.services.accounts import Member
from chatbox.services.search import MAX_RESULTS, PRIVATE_SCAN
from chatbox.services.sessions import SessionService
from chatbox.web.context import (
    WebServices,
    as_shown,
    author_names,
    channel_views,
    discovery_text,
    invite_url,
    message_view,
    people_view,
    search_view,
    status_report,
)
from chatbox.web.i18n import gettext as _
from chatbox.web.i18n import number
from chatbox.web.qr import qr_svg
from chatbox.web.status_words import registry_words, summary

PAGE_SIZE = 50


def blueprint(services: WebServices, upload_limit: int) -> Blueprint:
    ui = Blueprint("ui", __name__)

    async def page(template: str, **values: Any) -> str:
        member: Member | None = g.get("member")
        return await render_template(
            template,
            member=member,
            csrf_token=SessionService.csrf_token(g.token) if member and g.token else "",
            **values,
        )

    async def gate() -> Response | None:
        """Where a logged-out visitor must go instead, if anywhere."""
        if g.get("member") is not None:
            return None
        if not await services.accounts.has_accounts():
            return redirect(url_for("ui.setup"))
        return redirect(url_for("ui.login", next=request.path))

    @ui.get("/")
    async def home() -> Response:
        return await gate() or redirect(url_for("ui.chat"))

    @ui.get("/setup")
    async def setup() -> Response | str:
        if await services.accounts.has_accounts():
            return redirect(url_for("ui.login"))
        return await page("setup.html")

    @ui.get("/login")
    async def login() -> Response | str:
        if not await services.accounts.has_accounts():
            return redirect(url_for("ui.setup"))
        policy = await services.accounts.policy()
        return await page("login.html", policy=policy, next=_local(request.args.get("next")))

    @ui.get("/reset")
    async def reset() -> str:
        return await page("reset.html")

    @ui.get("/signup")
    async def signup() -> str:
        # A sign-up link from an admin carries its code; the form shows it filled in.
        code = request.args.get("code", "")[:32]
        return await page("signup.html", policy=await services.accounts.policy(), code=code)

    @ui.get("/chat")
    @ui.get("/chat/<channel_id>")
    async def chat(channel_id: str | None = None) -> Response | str:
        if (away := await gate()) is not None:
            return away
        member: Member = g.member
        channels = await channel_views(services, member)
        muted = {view["id"] for view in channels if view["muted"]}
        current = direct = None
        messages: list[dict[str, Any]] = []
        before = after = None
        if channel_id is not None:
            current, direct = await as_shown(
                services, member, await services.channels.for_member(member, channel_id)
            )
            around = request.args.get("around")
            if around:  # a search result or a link to one message: open the channel there
                history = await services.messages.around(member, channel_id, around, PAGE_SIZE)
            else:
                history = await services.messages.history(member, channel_id, None, PAGE_SIZE)
            names = await author_names(services)
            messages = [message_view(m, names) for m in history.messages]
            before, after = history.before, history.after
            for view in channels:
                if view["id"] == channel_id:
                    view["unread"] = 0
            if history.messages and after is None:
                await services.channels.mark_read(member, channel_id, history.messages[-1].clock)
        # The owner of a box nobody else has joined yet sees what to do next.
        alone = member.is_admin and current is None and await services.accounts.account_count() == 1
        return await page(
            "chat.html",
            channels=[view for view in channels if not view["direct"]],
            conversations=[view for view in channels if view["direct"]],
            direct=direct,
            muted=current is not None and current.id in muted,
            current=current,
            getting_started=alone,
            may_create_public=await services.accounts.may_create_public(member),
            messages=messages,
            before=before,
            after=after,
            upload_limit=upload_limit,
        )

    @ui.get("/chat/<channel_id>/invite")
    async def invite(channel_id: str) -> Response | str:
        if (away := await gate()) is not None:
            return away
        channel = await services.channels.for_member(g.member, channel_id)
        link = invite_url(request.host_url, await services.channels.invite(g.member, channel_id))
        return await page("invite.html", channel=channel, link=link, qr=qr_svg(link))

    @ui.get("/invite")
    async def accept_invite() -> Response | str:
        # The token is in the fragment: the page's script reads it and posts it.
        return await gate() or await page("accept.html")

    @ui.get("/directory")
    async def directory() -> Response | str:
        if (away := await gate()) is not None:
            return away
        return await page(
            "directory.html",
            listed=await services.channels.public_directory(g.member),
            chain=registry_words(services.channels.registry_standing()),
            discovery=discovery_text(services.status.mdns()),
        )

    @ui.get("/people")
    async def people() -> Response | str:
        if (away := await gate()) is not None:
            return away
        return await page(
            "people.html",
            people=await people_view(services),
            boxes=await services.peers.boxes(),
            availability={"online": _("online"), "offline": _("offline")},
            discovery=discovery_text(services.status.mdns()),
        )

    @ui.get("/status")
    async def status() -> Response | str:
        if (away := await gate()) is not None:
            return away
        report = await status_report(services, g.member)
        # A QR code of the plain-IP address, for phones on which <box_name>.local fails.
        ip_qr = qr_svg(report["network"]["urls"][0])
        chain_states = {
            "off": _("off"),
            "unreachable": _("unreachable"),
            "error": _("error"),
            "connected": _("connected"),
        }
        return await page(
            "status.html",
            status=report,
            words=summary(report),
            ip_qr=ip_qr,
            chain_states=chain_states,
        )

    @ui.get("/search")
    async def search() -> Response | str:
        if (away := await gate()) is not None:
            return away
        query = request.args.get("q", "")[:MAX_QUERY_CHARS]
        results: list[dict[str, Any]] = []
        problem = None
        if query.strip():
            try:
                results = await search_view(services, g.member, query)
            except InvalidInput as refused:
                problem = _(refused.message)
        return await page(
            "search.html",
            query=query,
            results=results,
            problem=problem,
            scan=PRIVATE_SCAN,
            limit=MAX_RESULTS,
        )

    @ui.get("/admin")
    async def admin() -> Response | str:
        if (away := await gate()) is not None:
            return away
        if not g.member.is_admin:
            raise NotFound("no such page")
        return await page(
            "admin.html",
            policy=await services.accounts.policy(),
            public_channels=await services.accounts.public_channel_policy(),
            accounts=await services.accounts.accounts(g.member),
        )

    @ui.app_template_filter("when")
    def when(ts_ms: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts_ms / 1000))

    @ui.app_template_filter("size")
    def size(count: float) -> str:
        if count < 1024:
            return f"{count:.0f} B"
        for unit in ("KB", "MB", "GB"):
            count /= 1024
            if count < 1024 or unit == "GB":
                break
        return f"{number(count, '#,##0.0')} {unit}"

    return ui


def _local(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/chat"
