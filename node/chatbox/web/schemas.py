"""The shapes the JSON API accepts and returns; the OpenAPI document is generated from them.

Bodies are validated strictly: ``{"text": 0}`` is a wrong type, not the text "0", and
fields the schema does not name are refused rather than ignored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chatbox.domain.channels import MAX_NAME_LENGTH
from chatbox.domain.envelope import MAX_TEXT_CHARS
from chatbox.domain.moderation import MAX_DESCRIPTION, MAX_PINNED, MAX_TOPIC
from chatbox.domain.person_names import MAX_DISPLAY_NAME
from chatbox.services.search import MAX_RESULTS


class Body(BaseModel):
    """A JSON request body."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Credentials(Body):
    name: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=1024)


class AdminReset(Credentials):
    code: str = Field(min_length=1, max_length=32)


class NewAccount(Credentials):
    display_name: str | None = Field(
        default=None,
        max_length=4 * MAX_DISPLAY_NAME,
        description="the name others see, in any script (1 to 64 characters once white "
        "space is collapsed); empty or absent: the login name",
    )


class SignUp(NewAccount):
    code: str | None = Field(default=None, max_length=64)


class Profile(Body):
    display_name: str = Field(
        max_length=4 * MAX_DISPLAY_NAME,
        description="the name others see (1 to 64 characters); empty: the login name",
    )


class SessionOut(BaseModel):
    name: str = Field(description="the login name, which @mentions use")
    display_name: str | None = Field(description="the name others see; null: the login name")
    fingerprint: str
    is_admin: bool
    csrf_token: str = Field(description="send back as the X-CSRF-Token header on every change")


class ChannelIn(Body):
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    visibility: Literal["public", "private"]


class ChannelOut(BaseModel):
    id: str
    name: str = Field(description="the normalized name, from which a public channel's id is made")
    title: str = Field(description="the name as its creator wrote it, for showing")
    visibility: Literal["public", "private"]
    unread: int = 0
    muted: bool = Field(False, description="muted by this person: not counted or announced")
    direct: bool = Field(False, description="a direct conversation, titled by its members")
    members: list[str] = Field(
        default_factory=list, description="a conversation's other members' public keys"
    )
    follows: str | None = Field(
        None, description="the channel this one goes on from, since a member was removed"
    )


class ChannelList(BaseModel):
    channels: list[ChannelOut]


class ConversationIn(BaseModel):
    members: list[str] = Field(
        description="the public keys of the people to write to (1 to 7), you not needed",
        max_length=16,
    )


class DirectoryEntry(BaseModel):
    id: str
    name: str
    title: str
    joined: bool
    source: Literal["box", "chain"] = Field(
        description="box: held here; chain: listed by the chain registry, not yet held here"
    )


class Directory(BaseModel):
    channels: list[DirectoryEntry]
    chain: str = Field(description="state of the chain registry connection")
    discovery: str = Field(description="state of box discovery on the LAN")


class InviteOut(BaseModel):
    token: str
    url: str = Field(description="the join link; the key travels only in its fragment")


class InviteIn(Body):
    token: str = Field(min_length=1, max_length=512)


class FileUpload(BaseModel):
    file: bytes = Field(json_schema_extra={"format": "binary"})


class FileRef(BaseModel):
    cid: str
    name: str
    mime: str
    size: int


class Reaction(BaseModel):
    emoji: str
    count: int
    people: list[str] = Field(description="the names of who reacted, in the order they did")
    keys: list[str] = Field(description="their public keys, in the same order")


class MessageOut(BaseModel):
    cid: str
    channel_id: str
    author: str
    author_name: str | None = Field(description="the name people see; null: unknown author")
    author_handle: str | None = Field(description="login name, for authors on this box")
    author_fingerprint: str
    clock: int
    ts: int
    text: str | None
    html: str | None = Field(description="the text as sanitized HTML: the Markdown subset, links")
    mentions: list[str] = Field(description="login names the text mentions")
    mentioned: list[str] = Field(
        default_factory=list,
        description="the keys of the people mentioned: @name is a person on the author's box,"
        " @name@box one on that box",
    )
    file: FileRef | None
    pinned: bool
    anchored: bool
    reply_to: str | None = Field(description="a reply: the message whose thread it is in")
    reply_to_author: str | None = Field(
        default=None, description="a reply: the public key of the author of its message"
    )
    replies: int = Field(description="how many replies its thread holds")
    reactions: list[Reaction]
    edited_ts: int | None = Field(description="when the text shown was edited; null: never")
    deleted: bool = Field(description="deleted by its author: no text or file is left")
    revision: int = Field(description="grows with each reply, edit or reaction folded in")


class MessageIn(Body):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    reply_to: str | None = Field(
        default=None, max_length=100, description="post as a reply in this message's thread"
    )


class EditIn(Body):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class ReactionIn(Body):
    emoji: str = Field(min_length=1, max_length=16)
    on: bool = Field(default=True, description="false takes your reaction back")


class Moderation(BaseModel):
    founders: list[str] = Field(description="keys the registry's creator named founders")
    moderators: list[str] = Field(description="keys that moderate now, founders included")
    banned: list[str] = Field(description="keys whose writing counts for nothing now")
    you_moderate: bool = Field(description="whether you may delete others' messages and ban")
    available: bool = Field(
        description="false while the chain registry does not list the channel (or this box "
        "reads none): then nobody can be told a founder, and nobody moderates"
    )
    members: list[str] = Field(
        default_factory=list,
        description="a private channel's members (who joined and were not removed)",
    )
    successor: str | None = Field(
        None, description="the channel this one goes on as since a member was removed"
    )
    removed: bool = Field(False, description="whether you were removed from this channel")


class SettingsIn(Body):
    topic: str = Field(max_length=MAX_TOPIC, description="one line under the channel's name")
    description: str = Field(max_length=MAX_DESCRIPTION)
    pinned: list[str] = Field(max_length=MAX_PINNED, description="message CIDs, in order")
    posting: Literal["everyone", "moderators"] = Field(
        description="who may write messages, replies and edits"
    )


class SettingsOut(BaseModel):
    topic: str
    description: str
    posting: Literal["everyone", "moderators"]
    you_may_post: bool
    pinned: list[MessageOut] = Field(description="the pinned messages still there, in order")


class KeyIn(Body):
    key: str = Field(min_length=64, max_length=64, description="an Ed25519 key, 64 hex")


class Thread(BaseModel):
    messages: list[MessageOut] = Field(description="the message, then its replies, oldest first")


class Versions(BaseModel):
    versions: list[MessageOut] = Field(description="the text as posted, then each edit")


class HistoryQuery(BaseModel):
    before: str | None = Field(default=None, max_length=100)
    after: str | None = Field(default=None, max_length=100)
    limit: int = Field(default=50, ge=1, le=200)


class SearchQuery(BaseModel):
    q: str = Field(description="words to find, each at the start of a word, in any case")
    limit: int = Field(default=MAX_RESULTS, ge=1, le=MAX_RESULTS)


class SearchChannel(BaseModel):
    id: str
    title: str
    visibility: Literal["public", "private"]


class SearchResult(BaseModel):
    message: MessageOut
    channel: SearchChannel
    snippet_html: str = Field(description="a stretch of the text with found words in <mark>")


class SearchResults(BaseModel):
    results: list[SearchResult] = Field(description="newest first")


class MessagePage(BaseModel):
    messages: list[MessageOut]
    before: str | None = Field(description="pass as `before` for older messages; null at start")
    after: str | None = Field(
        description="with `after`: pass as `after` for newer messages; null at the newest"
    )


class Mute(Body):
    muted: bool = Field(
        description="true: new messages are not counted or announced, except a mention of you"
    )


class ReadMark(Body):
    clock: int = Field(ge=0, le=2**62)


class Person(BaseModel):
    name: str = Field(description="the name people see")
    handle: str | None = Field(None, description="login name, for people on this box")
    fingerprint: str
    is_admin: bool
    availability: Literal["online", "offline"]
    box: str | None = Field(None, description="the other box this person posts from; null here")
    key: str = Field(description="their public key, which starts a conversation with them")
    can_write: bool = Field(
        description="a conversation can be started with them: on this box, or their card came"
    )


class Box(BaseModel):
    name: str
    peer_id: str = Field(description="libp2p peer id of the box's IPFS node")
    fingerprint: str | None = Field(description="of the box key, once it announced itself")
    addresses: list[str]
    source: Literal["mdns", "manual", "pubsub"]
    on_lan: bool = Field(description="advertised over mDNS right now")
    availability: Literal["online", "offline"] = Field(description="connected right now")
    last_seen: int = Field(description="unix time of its last valid announcement; 0 if never")
    rejected: int = Field(description="invalid announcements or entries it sent")


class Peers(BaseModel):
    people: list[Person]
    boxes: list[Box]
    discovery: str = Field(description="state of box discovery on the LAN")


class PeerIn(Body):
    multiaddr: str = Field(
        max_length=300, description="e.g. /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW..."
    )


class PeerAdded(BaseModel):
    peer_id: str
    connected: bool = Field(description="reached now; otherwise dialled again every 30 s")


class Policy(Body):
    registration: Literal["open", "invite", "closed"]


class PublicChannelPolicy(Body):
    public_channels: Literal["everyone", "admins"] = Field(
        description="who may create public channels; anyone may create a private one"
    )


class AccountOut(BaseModel):
    name: str = Field(description="the login name")
    display_name: str | None = Field(description="the name others see; null: the login name")
    is_admin: bool
    state: Literal["active", "disabled"] = Field(description="disabled: may not log in")
    fingerprint: str


class AccountList(BaseModel):
    accounts: list[AccountOut]


class AccountState(Body):
    state: Literal["active", "disabled"] = Field(
        description="disabled: the account cannot log in and its sessions end"
    )


class ResetCode(BaseModel):
    code: str = Field(description="one use, for the named account, within a day")


class SignupInvite(BaseModel):
    code: str
    link: str = Field(description="the sign-up page with the code filled in")
    qr_svg: str = Field(description="the link as an SVG QR code, to scan with a phone")


class ResetFor(Body):
    name: str = Field(min_length=1, max_length=32, description="the account's login name")


class Ok(BaseModel):
    ok: bool = True


class Error(BaseModel):
    error: str
    detail: str
    code: str = Field(description="stable name of the error, e.g. invalid_input")
