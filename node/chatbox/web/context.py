"""What the web face is given by the composition root, and views shared by API and pages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from chatbox.domain.channels import Channel
from chatbox.domain.identity import fingerprint
from chatbox.domain.search_words import searchable
from chatbox.services.accounts import AccountService, Member
from chatbox.services.admin import AdminActions
from chatbox.services.channels import ChannelService
from chatbox.services.direct import ConversationService
from chatbox.services.files import FileService
from chatbox.services.live import LiveFeed
from chatbox.services.messages import Message, MessageService
from chatbox.services.moderation import ModerationService
from chatbox.services.onboarding import Onboarding
from chatbox.services.peers import PeerService
from chatbox.services.proofs import ProofService
from chatbox.services.search import MAX_RESULTS, SearchService
from chatbox.services.sessions import SessionService
from chatbox.services.status import StatusService, for_viewer
from chatbox.web import rich_text
from chatbox.web.i18n import gettext as _
from chatbox.web.search_view import snippet


@dataclass(frozen=True)
class WebServices:
    accounts: AccountService
    onboarding: Onboarding
    sessions: SessionService
    channels: ChannelService
    messages: MessageService
    moderation: ModerationService
    conversations: ConversationService
    files: FileService
    live: LiveFeed
    status: StatusService
    proofs: ProofService
    peers: PeerService
    admin: AdminActions
    search: SearchService


@dataclass(frozen=True)
class AuthorNames:
    shown: dict[str, str]  # public key -> the name people see
    handles: dict[str, str]  # public key -> login name here, or ``name@box`` elsewhere
    boxes: dict[str, str] = field(default_factory=dict)  # public key -> the box they are on
    # (box, login name), case-folded -> public key: whom ``@name@box`` mentions
    mentionable: dict[tuple[str, str], str] = field(default_factory=dict)

    def mentioned(self, author: str, name: str, box: str | None) -> str | None:
        """The key ``@name`` (or ``@name@box``) names in what ``author`` wrote: a name
        without a box is one on the author's own box."""
        where = box or self.boxes.get(author)
        return None if where is None else self.mentionable.get((where.casefold(), name.casefold()))


async def author_names(services: WebServices) -> AuthorNames:
    here = services.status.box_name
    local = await services.accounts.handles()
    remote = await services.accounts.remote_handles()
    handles = {**{key: f"{name}@{box}" for key, (name, box) in remote.items()}, **local}
    boxes = {**{key: box for key, (_, box) in remote.items()}, **dict.fromkeys(local, here)}
    mentionable = {(box.casefold(), name.casefold()): key for key, (name, box) in remote.items()}
    mentionable.update({(here.casefold(), name.casefold()): key for key, name in local.items()})
    return AuthorNames(await services.accounts.names(), handles, boxes, mentionable)


def message_view(message: Message, names: AuthorNames) -> dict[str, Any]:
    """A message as the API returns it and the pages render it."""
    view = asdict(message)
    view["author_name"] = names.shown.get(message.author)
    view["author_handle"] = names.handles.get(message.author)
    # Sanitized HTML of the text (rich_text), and the names it mentions, for highlighting
    # and notifying; ``text`` stays the plain text as written.
    html = None if message.text is None else str(rich_text.render(message.text))
    mentioned: set[str] = set()
    if html is not None:
        targets = rich_text.mentioned_in(html)
        keys = {target: names.mentioned(message.author, *target) for target in targets}
        mentioned = {key for key in keys.values() if key is not None}
        html = rich_text.with_mentioned_keys(html, lambda name, box: keys.get((name, box)))
    view["html"] = html
    view["mentions"] = [] if html is None else sorted(rich_text.mentions_in(html))
    view["mentioned"] = sorted(mentioned)
    view["reactions"] = [
        {
            "emoji": emoji,
            "count": len(keys),
            "people": [names.shown.get(key) or fingerprint(key) for key in keys],
            "keys": keys,
        }
        for emoji, keys in message.reactions.items()
    ]
    return view


async def people_view(services: WebServices) -> list[dict[str, Any]]:
    """Everyone with an account on this box, then people seen from other boxes."""
    here = [
        {
            "name": person.shown_name,
            "handle": person.name,
            "fingerprint": fingerprint(person.public_key),
            "is_admin": person.is_admin,
            "availability": services.live.availability(person.id, person.last_seen),
            "box": None,
            "key": person.public_key,
            "can_write": True,
        }
        for person in await services.accounts.people()
    ]
    carded = await services.conversations.carded()
    elsewhere = [
        {**asdict(person), "is_admin": False, "can_write": person.key in carded}
        for person in await services.peers.people()
    ]
    return here + elsewhere


async def status_report(services: WebServices, viewer: Member | None) -> dict[str, Any]:
    """The status report as ``viewer`` may see it: all of it for an admin."""
    return for_viewer(await services.status.status(), viewer is not None and viewer.is_admin)


def discovery_text(mdns: dict[str, Any]) -> str:
    """One sentence on how the box is found on the LAN."""
    if mdns.get("state") != "advertising":
        return _(
            "This box is not advertised on the LAN (mDNS %(state)s).",
            state=mdns.get("state", "off"),
        )
    if mdns.get("renamed"):
        return _(
            "This box answers as %(name)s (%(requested)s is taken on this network).",
            name=mdns["name"],
            requested=mdns["requested"],
        )
    return _("This box answers as %(name)s.", name=mdns["name"])


async def search_view(
    services: WebServices, member: Member, query: object, limit: int = MAX_RESULTS
) -> list[dict[str, Any]]:
    """What a search finds, as the API returns it and the search page shows it."""
    names = await author_names(services)
    return [
        {
            "message": message_view(found.message, names),
            "channel": {
                "id": found.channel.id,
                "title": found.channel.title,
                "visibility": found.channel.visibility,
            },
            "snippet_html": str(snippet(_searchable(found.message), found.words)),
        }
        for found in await services.search.search(member, query, limit)
    ]


def _searchable(message: Message) -> str:
    return searchable({"text": message.text, "file": message.file})


def channel_view(
    channel: Channel, unread: int = 0, muted: bool = False, members: list[str] | None = None
) -> dict[str, Any]:
    """A channel in the lists; a conversation also names its other members' keys."""
    return {
        "id": channel.id,
        "name": channel.name,
        "title": channel.title,
        "visibility": channel.visibility,
        "unread": unread,
        "muted": muted,
        "direct": members is not None,
        "members": members or [],
        "follows": channel.follows,
    }


async def channel_views(services: WebServices, member: Member) -> list[dict[str, Any]]:
    """The member's channels and conversations, opening the keys that wait for them."""
    await services.conversations.accept_waiting(member)
    unread = await services.channels.unread(member)
    muted = await services.channels.muted(member)
    views = []
    joined = await services.channels.joined(member)
    continued = {channel.follows for channel in joined if channel.follows}
    for channel in joined:
        if channel.id in continued:
            continue  # it goes on as its successor, which the list shows instead
        shown, members = await as_shown(services, member, channel)
        views.append(channel_view(shown, unread.get(channel.id, 0), channel.id in muted, members))
    return views


async def as_shown(
    services: WebServices, member: Member, channel: Channel
) -> tuple[Channel, list[str] | None]:
    """A conversation is titled by the names of the others in it, and names their keys."""
    everyone = await services.conversations.members(channel.id)
    if everyone is None:
        return channel, None
    others = [key for key in everyone if key != member.identity.public_key]
    names = await services.accounts.names()
    title = ", ".join(sorted(names.get(key, fingerprint(key)) for key in others))
    return replace(channel, title=title), others


def invite_url(host_url: str, token: str) -> str:
    """The join link; the token (holding the key) sits in the fragment, never sent to a server."""
    return f"{host_url.rstrip('/')}/invite#{token}"
