"""The JSON API under /api/v1 (DESIGN.md §5). Schemas in ``schemas.py`` feed the OpenAPI."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode

from quart import Blueprint, Response, g, jsonify, request
from quart_schema import (
    DataSource,
    document_request,
    document_response,
    validate_querystring,
    validate_request,
    validate_response,
)

from chatbox.domain.identity import fingerprint
from chatbox.domain.moderation import ChannelSettings
from chatbox.services.accounts import AccountRecord, Member
from chatbox.services.sessions import SessionService
from chatbox.web import schemas, session
from chatbox.web.context import (
    WebServices,
    as_shown,
    author_names,
    channel_view,
    channel_views,
    discovery_text,
    invite_url,
    message_view,
    people_view,
    search_view,
    status_report,
)
from chatbox.web.downloads import file_response
from chatbox.web.qr import qr_svg
from chatbox.web.uploads import file_part

SECURE_COOKIES = False  # the box serves plain HTTP on the LAN: no certificate fits .local


def blueprint(services: WebServices) -> Blueprint:
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    _accounts_routes(api, services)
    _channel_routes(api, services)
    _message_routes(api, services)
    _box_routes(api, services)
    return api


def _accounts_routes(api: Blueprint, services: WebServices) -> None:
    async def opened(member: Member, status: int) -> Response:
        token = await services.sessions.open(member)
        return _session_response(member, token, status)

    @api.post("/setup")
    @validate_request(schemas.NewAccount)
    @document_response(schemas.SessionOut, 201)
    async def setup(data: schemas.NewAccount) -> Response:
        """Create the owner's admin account and #general on first run; refused once any
        account exists."""
        owner = await services.onboarding.set_up(data.name, data.password, data.display_name)
        return await opened(owner, 201)

    @api.post("/accounts")
    @validate_request(schemas.SignUp)
    @document_response(schemas.SessionOut, 201)
    async def sign_up(data: schemas.SignUp) -> Response:
        """Sign up, as the box's registration policy allows (open, with a code, or closed);
        the new member starts in #general."""
        member = await services.onboarding.sign_up(
            data.name, data.password, data.code, data.display_name
        )
        return await opened(member, 201)

    @api.post("/session")
    @validate_request(schemas.Credentials)
    @document_response(schemas.SessionOut)
    async def log_in(data: schemas.Credentials) -> Response:
        """Log in: sets an HttpOnly, SameSite=Strict session cookie."""
        client = request.remote_addr or "unknown"
        token, member = await services.sessions.login(data.name, data.password, client)
        return _session_response(member, token, 200)

    @api.post("/admin/reset")
    @validate_request(schemas.AdminReset)
    @document_response(schemas.SessionOut)
    async def reset_admin(data: schemas.AdminReset) -> Response:
        """Set a new password with a one-time code: one an admin made for this account, or
        for an admin one from the box's serial console."""
        client = request.remote_addr or "unknown"
        token, member = await services.sessions.reset_password(
            data.name, data.code, data.password, client
        )
        return _session_response(member, token, 200)

    @api.get("/session")
    @validate_response(schemas.SessionOut)
    async def who_am_i() -> schemas.SessionOut:
        return _session_out(session.member(), g.token)

    @api.put("/session/profile")
    @validate_request(schemas.Profile)
    @validate_response(schemas.SessionOut)
    async def set_profile(data: schemas.Profile) -> schemas.SessionOut:
        """Set the name others see, here and on the boxes this person's messages reach."""
        member = await services.sessions.rename(session.member(), data.display_name)
        return _session_out(member, g.token)

    @api.delete("/session")
    @document_response(schemas.Ok)
    async def log_out() -> Response:
        await services.sessions.logout(g.token)
        response = jsonify(schemas.Ok().model_dump())
        session.clear_cookie(response)
        return response

    @api.get("/admin/registration")
    @validate_response(schemas.Policy)
    async def registration() -> schemas.Policy:
        return schemas.Policy(registration=await services.accounts.policy())  # type: ignore[arg-type]

    @api.put("/admin/registration")
    @validate_request(schemas.Policy)
    @validate_response(schemas.Policy)
    async def set_registration(data: schemas.Policy) -> schemas.Policy:
        policy = await services.accounts.set_policy(session.member(), data.registration)
        return schemas.Policy(registration=policy)  # type: ignore[arg-type]

    @api.get("/admin/public-channels")
    @validate_response(schemas.PublicChannelPolicy)
    async def public_channels() -> schemas.PublicChannelPolicy:
        """Who may create public channels on this box."""
        policy = await services.accounts.public_channel_policy()
        return schemas.PublicChannelPolicy(public_channels=policy)  # type: ignore[arg-type]

    @api.put("/admin/public-channels")
    @validate_request(schemas.PublicChannelPolicy)
    @validate_response(schemas.PublicChannelPolicy)
    async def set_public_channels(data: schemas.PublicChannelPolicy) -> schemas.PublicChannelPolicy:
        """Let everyone, or only admins, create public channels (admin)."""
        policy = await services.accounts.set_public_channel_policy(
            session.member(), data.public_channels
        )
        return schemas.PublicChannelPolicy(public_channels=policy)  # type: ignore[arg-type]

    @api.get("/admin/accounts")
    @validate_response(schemas.AccountList)
    async def accounts() -> schemas.AccountList:
        """Every account of this box (admin)."""
        records = await services.accounts.accounts(session.member())
        return schemas.AccountList(accounts=[_account_out(record) for record in records])

    @api.put("/admin/accounts/<name>")
    @validate_request(schemas.AccountState)
    @validate_response(schemas.AccountOut)
    async def set_account_state(name: str, data: schemas.AccountState) -> schemas.AccountOut:
        """Switch an account off, so it cannot log in and its sessions end, or on (admin)."""
        record = await services.sessions.set_account_state(session.member(), name, data.state)
        if record.state != "active":
            services.live.end_streams(record.id)
        return _account_out(record)

    @api.delete("/admin/accounts/<name>")
    @validate_response(schemas.Ok)
    async def remove_account(name: str) -> schemas.Ok:
        """Remove an account for good: its keys are erased and it leaves every channel; what
        it wrote stays, under its name, which nobody new may take (admin)."""
        record = await services.sessions.remove_account(session.member(), name)
        services.live.end_streams(record.id)
        return schemas.Ok()

    @api.post("/admin/anchor")
    @validate_response(schemas.Ok, 202)
    async def anchor_now() -> tuple[schemas.Ok, int]:
        """Anchor the channels' new history now instead of at the next interval (admin)."""
        services.admin.anchor_now(session.member())
        return schemas.Ok(), 202

    @api.post("/admin/reset-codes")
    @validate_request(schemas.ResetFor)
    @validate_response(schemas.ResetCode, 201)
    async def new_reset_code(data: schemas.ResetFor) -> tuple[schemas.ResetCode, int]:
        """A one-time code (a day) for a member who forgot their password (admin)."""
        code = await services.accounts.new_reset_code(session.member(), data.name)
        return schemas.ResetCode(code=code), 201

    @api.post("/admin/signup-codes")
    @validate_response(schemas.SignupInvite, 201)
    async def new_signup_code() -> tuple[schemas.SignupInvite, int]:
        """A one-time code that lets one person sign up within a week, with a link (and its
        QR code) that opens the sign-up page with the code filled in (admin)."""
        code = await services.accounts.new_signup_code(session.member())
        link = f"{request.host_url}signup?{urlencode({'code': code})}"
        return schemas.SignupInvite(code=code, link=link, qr_svg=qr_svg(link)), 201


def _channel_routes(api: Blueprint, services: WebServices) -> None:
    @api.get("/channels")
    @validate_response(schemas.ChannelList)
    async def joined() -> dict[str, Any]:
        return {"channels": await channel_views(services, session.member())}

    @api.post("/conversations")
    @validate_request(schemas.ConversationIn)
    @validate_response(schemas.ChannelOut)
    async def converse(data: schemas.ConversationIn) -> dict[str, Any]:
        """The direct conversation with these people: the one you have, or a new one whose
        key reaches each of them sealed to their own key."""
        member = session.member()
        conversation = await services.conversations.start(member, data.members)
        shown, others = await as_shown(services, member, conversation.channel)
        return channel_view(shown, members=others)

    @api.put("/channels/<channel_id>/mute")
    @validate_request(schemas.Mute)
    @validate_response(schemas.Mute)
    async def mute(channel_id: str, data: schemas.Mute) -> schemas.Mute:
        """Mute a channel for oneself, or unmute it."""
        await services.channels.set_muted(session.member(), channel_id, data.muted)
        return data

    @api.post("/channels")
    @validate_request(schemas.ChannelIn)
    @validate_response(schemas.ChannelOut, 201)
    async def create(data: schemas.ChannelIn) -> tuple[dict[str, Any], int]:
        channel = await services.channels.create(session.member(), data.name, data.visibility)
        return channel_view(channel), 201

    @api.get("/channels/public")
    @validate_response(schemas.Directory)
    async def directory() -> dict[str, Any]:
        """Public channels this box knows; the chain registry and LAN peers add theirs."""
        listed = await services.channels.public_directory(session.member())
        entries = [
            {**channel_view(e.channel), "joined": e.joined, "source": e.source} for e in listed
        ]
        return {
            "channels": entries,
            "chain": services.channels.registry_state(),
            "discovery": discovery_text(services.status.mdns()),
        }

    @api.post("/channels/<channel_id>/join")
    @validate_response(schemas.ChannelOut)
    async def join(channel_id: str) -> dict[str, Any]:
        return channel_view(await services.channels.join_public(session.member(), channel_id))

    @api.get("/channels/<channel_id>/invite")
    @validate_response(schemas.InviteOut)
    async def invite(channel_id: str) -> dict[str, Any]:
        """The invite link of a private channel, for its members."""
        token = await services.channels.invite(session.member(), channel_id)
        return {"token": token, "url": invite_url(request.host_url, token)}

    @api.post("/invites/accept")
    @validate_request(schemas.InviteIn)
    @validate_response(schemas.ChannelOut)
    async def accept(data: schemas.InviteIn) -> dict[str, Any]:
        return channel_view(await services.channels.accept_invite(session.member(), data.token))

    @api.get("/channels/<channel_id>/moderation")
    @validate_response(schemas.Moderation)
    async def moderation(channel_id: str) -> dict[str, Any]:
        """Who founded and moderates the channel, who is banned, and whether you moderate."""
        return asdict(await services.moderation.view(session.member(), channel_id))

    @api.post("/channels/<channel_id>/moderators")
    @validate_request(schemas.KeyIn)
    @validate_response(schemas.Moderation)
    async def appoint(channel_id: str, data: schemas.KeyIn) -> dict[str, Any]:
        """Make a key a moderator of the channel (a moderator may)."""
        return await _act(channel_id, "appoint", data.key)

    @api.delete("/channels/<channel_id>/moderators/<key>")
    @validate_response(schemas.Moderation)
    async def dismiss(channel_id: str, key: str) -> dict[str, Any]:
        """Stop a key moderating the channel; a founder stays one."""
        return await _act(channel_id, "dismiss", key)

    @api.post("/channels/<channel_id>/bans")
    @validate_request(schemas.KeyIn)
    @validate_response(schemas.Moderation)
    async def ban(channel_id: str, data: schemas.KeyIn) -> dict[str, Any]:
        """Ban a key from the channel: what it writes after the ban counts for nothing on
        every box that follows the protocol."""
        return await _act(channel_id, "ban", data.key)

    @api.delete("/channels/<channel_id>/bans/<key>")
    @validate_response(schemas.Moderation)
    async def unban(channel_id: str, key: str) -> dict[str, Any]:
        """Lift a key's ban."""
        return await _act(channel_id, "unban", key)

    @api.delete("/channels/<channel_id>/members/<key>")
    @validate_response(schemas.ChannelOut)
    async def remove_member(channel_id: str, key: str) -> dict[str, Any]:
        """Remove a member from a private channel (a moderator may): it goes on as a new
        channel under a new key that only the members left receive; returns that one."""
        member = session.member()
        successor = await services.moderation.remove(member, channel_id, key)
        return channel_view(successor)

    @api.get("/channels/<channel_id>/settings")
    @validate_response(schemas.SettingsOut)
    async def settings(channel_id: str) -> dict[str, Any]:
        """The channel's topic, description and pinned messages."""
        member = session.member()
        settings = await services.moderation.settings(member, channel_id)
        return await _settings_view(member, settings, channel_id)

    @api.put("/channels/<channel_id>/settings")
    @validate_request(schemas.SettingsIn)
    @validate_response(schemas.SettingsOut)
    async def set_settings(channel_id: str, data: schemas.SettingsIn) -> dict[str, Any]:
        """Set the topic, description and pinned messages (a moderator may); every box
        shows the last settings a moderator signed."""
        member = session.member()
        settings = await services.moderation.set_settings(
            member, channel_id, data.topic, data.description, data.pinned, data.posting
        )
        return await _settings_view(member, settings, channel_id)

    async def _settings_view(
        member: Member, settings: ChannelSettings, channel_id: str
    ) -> dict[str, Any]:
        # Only this channel's own messages: a pin is a CID anyone could have written.
        pinned = [
            m
            for m in await services.messages.find_many(member, list(settings.pinned))
            if m.channel_id == channel_id and m.reply_to is None
        ]
        names = await author_names(services)
        return {
            "topic": settings.topic,
            "description": settings.description,
            "posting": settings.posting,
            "you_may_post": await services.moderation.may_post(member, channel_id),
            "pinned": [message_view(m, names) for m in pinned],
        }

    async def _act(channel_id: str, act: str, key: str) -> dict[str, Any]:
        return asdict(await services.moderation.act(session.member(), channel_id, act, key))

    @api.post("/channels/<channel_id>/read")
    @validate_request(schemas.ReadMark)
    @validate_response(schemas.Ok)
    async def mark_read(channel_id: str, data: schemas.ReadMark) -> schemas.Ok:
        await services.channels.mark_read(session.member(), channel_id, data.clock)
        return schemas.Ok()


def _message_routes(api: Blueprint, services: WebServices) -> None:
    @api.get("/channels/<channel_id>/messages")
    @validate_querystring(schemas.HistoryQuery)
    @validate_response(schemas.MessagePage)
    async def history(channel_id: str, query_args: schemas.HistoryQuery) -> dict[str, Any]:
        """Messages before ``before`` (the newest if neither is given) or after ``after``,
        oldest first."""
        page = await services.messages.history(
            session.member(), channel_id, query_args.before, query_args.limit, query_args.after
        )
        names = await author_names(services)
        return {
            "messages": [message_view(m, names) for m in page.messages],
            "before": page.before,
            "after": page.after,
        }

    @api.get("/search")
    @validate_querystring(schemas.SearchQuery)
    @validate_response(schemas.SearchResults)
    async def search(query_args: schemas.SearchQuery) -> dict[str, Any]:
        """Messages of the person's channels holding every word of ``q``, newest first.
        Public channels through a full-text index; private ones by opening their newest
        2,000 messages, since no plaintext of them is kept on the disk."""
        member = session.member()
        return {"results": await search_view(services, member, query_args.q, query_args.limit)}

    @api.post("/channels/<channel_id>/messages")
    @validate_request(schemas.MessageIn)
    @validate_response(schemas.MessageOut, 201)
    async def post(channel_id: str, data: schemas.MessageIn) -> tuple[dict[str, Any], int]:
        message = await services.messages.post_text(
            session.member(), channel_id, data.text, data.reply_to
        )
        return message_view(message, await author_names(services)), 201

    @api.put("/messages/<message_cid>")
    @validate_request(schemas.EditIn)
    @validate_response(schemas.MessageOut)
    async def edit(message_cid: str, data: schemas.EditIn) -> dict[str, Any]:
        """Replace the text of your own message; every box shows the last edit, and earlier
        versions stay readable to members."""
        message = await services.messages.edit(session.member(), message_cid, data.text)
        return message_view(message, await author_names(services))

    @api.delete("/messages/<message_cid>")
    @validate_response(schemas.Ok)
    async def delete(message_cid: str) -> schemas.Ok:
        """Delete your own message, or as a moderator anyone's: its text and file leave this
        box, and every box that follows the protocol when the delete reaches it."""
        await services.moderation.delete(session.member(), message_cid)
        return schemas.Ok()

    @api.put("/messages/<message_cid>/reaction")
    @validate_request(schemas.ReactionIn)
    @validate_response(schemas.MessageOut)
    async def react(message_cid: str, data: schemas.ReactionIn) -> dict[str, Any]:
        """Add a reaction (an emoji) to a message, or take yours back with ``on`` false."""
        message = await services.messages.react(session.member(), message_cid, data.emoji, data.on)
        return message_view(message, await author_names(services))

    @api.get("/messages/<message_cid>/thread")
    @validate_response(schemas.Thread)
    async def thread(message_cid: str) -> dict[str, Any]:
        """A message's thread: the message it hangs from, then its replies."""
        messages = await services.messages.thread(session.member(), message_cid)
        names = await author_names(services)
        return {"messages": [message_view(m, names) for m in messages]}

    @api.get("/messages/<message_cid>/versions")
    @validate_response(schemas.Versions)
    async def versions(message_cid: str) -> dict[str, Any]:
        """Every version of a message's text: as posted, then each of its author's edits."""
        messages = await services.messages.versions(session.member(), message_cid)
        names = await author_names(services)
        return {"versions": [message_view(m, names) for m in messages]}

    @api.post("/channels/<channel_id>/files")
    @document_request(schemas.FileUpload, source=DataSource.FORM_MULTIPART)
    @document_response(schemas.MessageOut, 201)
    async def upload(channel_id: str) -> tuple[dict[str, Any], int]:
        """Upload one file (multipart part ``file``), streamed; bounded by the upload limit."""
        member = session.member()
        upload = await file_part(request.body, request.headers.get("Content-Type", ""))
        message = await services.files.post_file(
            member,
            channel_id,
            upload.name,
            upload.mime,
            upload.chunks,
            expected_size=request.content_length or 0,
        )
        return message_view(message, await author_names(services)), 201

    @api.get("/files/<file_cid>")
    async def download(file_cid: str) -> Response:
        """A file from one of your channels, unsealed; pictures inline, the rest as downloads."""
        file = await services.files.open_file(session.member(), file_cid)
        return await file_response(file)

    @api.get("/messages/<message_cid>/proof")
    async def proof(message_cid: str) -> dict[str, Any]:
        """The anchoring proof of a message: check it with ``chatbox verify CID --proof``."""
        return await services.proofs.proof(session.member(), message_cid)


def _box_routes(api: Blueprint, services: WebServices) -> None:
    @api.get("/peers")
    @validate_response(schemas.Peers)
    async def peers() -> dict[str, Any]:
        """People on this box and other boxes, with their availability."""
        return {
            "people": await people_view(services),
            "boxes": [asdict(box) for box in await services.peers.boxes()],
            "discovery": discovery_text(services.status.mdns()),
        }

    @api.post("/peers")
    @validate_request(schemas.PeerIn)
    @validate_response(schemas.PeerAdded, 201)
    async def add_peer(data: schemas.PeerIn) -> tuple[dict[str, Any], int]:
        """Add a box beyond the LAN by its IPFS multiaddr (admin); kept and redialled."""
        return asdict(await services.admin.add_box(session.member(), data.multiaddr)), 201

    @api.delete("/peers/<peer_id>")
    @validate_response(schemas.Ok)
    async def remove_peer(peer_id: str) -> schemas.Ok:
        """Forget a box (admin); one on the LAN comes back when it is discovered again."""
        await services.admin.remove_box(session.member(), peer_id)
        return schemas.Ok()

    @api.get("/status")
    async def status() -> Response:
        """IPFS, outbox, chain, mDNS, version and uptime of this box; the chain account, its
        balance and the registry for admins only."""
        return jsonify(await status_report(services, g.get("member")))


def _session_out(member: Member, token: str) -> schemas.SessionOut:
    return schemas.SessionOut(
        name=member.name,
        display_name=member.display_name,
        fingerprint=member.fingerprint,
        is_admin=member.is_admin,
        csrf_token=SessionService.csrf_token(token),
    )


def _session_response(member: Member, token: str, status: int) -> Response:
    response = jsonify(_session_out(member, token).model_dump())
    response.status_code = status
    session.set_cookie(response, token, SECURE_COOKIES)
    return response


def _account_out(record: AccountRecord) -> schemas.AccountOut:
    return schemas.AccountOut(
        name=record.name,
        display_name=record.display_name,
        is_admin=record.is_admin,
        state="disabled" if record.state == "disabled" else "active",
        fingerprint=fingerprint(record.public_key),
    )
