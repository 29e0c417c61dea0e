"""Keys that travel without a link: direct conversations, and private channels that go on
under a new key after a member's removal.

A conversation is a private channel started from a person's card, one to one or up to
eight people. Members on this box are joined at once, members on other boxes receive the
key in a grant sealed to their card's sealing key (docs/PROTOCOL.md section 12). A grant
that reaches this box waits, sealed, until its recipient logs in or has a page open; only
their unlocked key opens it. A private channel's successor reaches the members left the
same way, and is opened only once the channel's own log says it goes on as that one.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chatbox.domain import canonical, direct
from chatbox.domain.channels import Channel, private_channel_id, successor_channel
from chatbox.domain.direct import Card, Grant
from chatbox.domain.sealing import new_key
from chatbox.errors import ChatboxError, InvalidEnvelope, InvalidInput, NotFound
from chatbox.ports import AccountBook, ConversationBook, PeopleCards
from chatbox.services.accounts import Member
from chatbox.services.channels import ChannelService

log = logging.getLogger("chatbox.services.direct")
CONVERSATION_NAME = "conversation"  # the channel name; pages show the members instead
GRANT_RESENT_FOR = 7 * 24 * 3600  # a box away for up to a week still receives its grants
MAX_WAITING = 64  # grants kept for one person until they log in: no box floods a disk


@dataclass(frozen=True)
class Conversation:
    channel: Channel
    members: tuple[str, ...]  # every member's signing key, sorted


class ConversationService:
    def __init__(
        self,
        book: ConversationBook,
        cards: PeopleCards,
        channels: ChannelService,
        accounts: AccountBook,
    ) -> None:
        self._book = book
        self._cards_kept = cards
        self._channels = channels
        self._accounts = accounts
        self._joined: list[Callable[[int, str], None]] = []
        self._waiting: list[Callable[[int], None]] = []
        self._news: list[Callable[[], None]] = []
        self._held: dict[str, tuple[str, ...]] | None = None  # loaded from SQLite once
        self._successor_of: Callable[[Channel], Awaitable[str | None]] | None = None

    def ask_successors(self, successor_of: Callable[[Channel], Awaitable[str | None]]) -> None:
        """Let ``successor_of`` say which channel a private channel goes on as, if any (its
        folded moderation): a successor's key is taken only from a grant it names."""
        self._successor_of = successor_of

    def on_joined(self, react: Callable[[int, str], None]) -> None:
        """Call ``react(account id, channel id)`` when a conversation comes to an account."""
        self._joined.append(react)

    def on_waiting(self, react: Callable[[int], None]) -> None:
        """Call ``react(account id)`` when a grant for a person of this box arrives."""
        self._waiting.append(react)

    def on_news(self, react: Callable[[], None]) -> None:
        """Call ``react()`` when this box has news for the people topic: grants it made to
        deliver, or a card of one of its people made at their first login."""
        self._news.append(react)

    async def welcome(self, member: Member) -> list[Conversation]:
        """A session opened: keep the member's card current and open what waits for them."""
        card = direct.make_card(member.identity)
        made = canonical.dumps(card.as_json()).decode()  # Ed25519 signs the same way each time
        if await self._cards_kept.card(card.key) != made:
            await self._cards_kept.add_cards({card.key: made})
            for announce in self._news:
                announce()  # others may write to them from now on
        return await self.accept_waiting(member)

    async def start(self, member: Member, people: list[str]) -> Conversation:
        """The conversation of ``member`` with ``people`` (their keys): the one they already
        have with exactly these people, or a new one."""
        if not isinstance(people, list) or not all(isinstance(key, str) for key in people):
            raise InvalidInput("members must be a list of people's public keys")
        members = direct.check_members(people, member.identity.public_key)
        for conversation in await self.of(member):
            if conversation.members == members:
                return conversation
        local = await self._local_accounts()
        remote = [key for key in members if key not in local]
        cards = await self._cards(remote)
        unknown = [key for key in remote if key not in cards]
        if unknown:
            raise NotFound(
                "this box has not yet heard from that person's box: they need to have logged"
                " in there once, and both boxes must be on the network"
            )
        key = new_key()
        channel = conversation_channel(key, member.identity.public_key)
        grants = [direct.make_grant(member.identity, cards[k], key, list(members)) for k in remote]
        await self._book.add_grants("out", [(g.channel, g.recipient, g.raw) for g in grants])
        await self._hold(channel, members, [local[k] for k in members if k in local])
        if grants:
            for react in self._news:
                react()
        return Conversation(channel, members)

    async def accept_waiting(self, member: Member) -> list[Conversation]:
        """Open the grants that came for ``member``; each one opened joins them."""
        accepted = []
        for channel_id, raw in await self._book.waiting_grants(member.identity.public_key):
            try:
                grant = direct.check_grant(canonical.loads(raw))
                opened = direct.open_grant(grant, member.identity)
            except ChatboxError as exc:
                # Sealed to an older key of theirs (a password reset), or never theirs.
                log.warning("a grant for %s cannot be opened: %s", member.name, exc.message)
            else:
                if opened.follows is not None:
                    if not await self._take_successor(member, opened):
                        continue  # the removal it follows has not reached this box yet
                elif await self._is_other_channel(opened.channel):
                    log.warning("a grant for %s names a channel, not a conversation", member.name)
                else:
                    channel = conversation_channel(opened.key, opened.sender)
                    await self._hold(channel, opened.members, [member.account_id])
                    accepted.append(Conversation(channel, opened.members))
            await self._book.drop_grant(channel_id, member.identity.public_key)
        return accepted

    async def carry_on(
        self,
        remover: Member,
        channel: Channel,
        successor: Channel,
        members: dict[str, dict[str, object]],
    ) -> None:
        """A member was removed from ``channel``: the members left on this box join its
        successor now; those on other boxes receive its key sealed to their cards."""
        local = await self._local_accounts()
        here = set(await self._channels.accounts_in(channel.id))
        joining = [local[key] for key in members if key in local and local[key] in here]
        assert successor.key is not None and successor.founder is not None
        grants = [
            direct.make_successor_grant(
                remover.identity, Card.kept(card), successor.key, successor.founder, channel.id
            )
            for key, card in members.items()
            if key not in local
        ]
        await self._book.add_grants("out", [(g.channel, g.recipient, g.raw) for g in grants])
        await self._join(successor, joining)
        if grants:
            for announce in self._news:
                announce()

    async def _take_successor(self, member: Member, opened: direct.Opened) -> bool:
        """Join the successor a grant names, once the channel it follows says it goes on
        as that one; False while that cannot be told yet."""
        assert opened.follows is not None
        try:
            before = await self._channels.for_member(member, opened.follows)
        except NotFound:
            # Not theirs, or not yet: the grant of the channel before it may still come.
            return await self._channels.is_member(member.account_id, opened.follows)
        if before.founder != opened.founder or self._successor_of is None:
            return True
        successor = await self._successor_of(before)
        if successor != opened.channel:
            return successor is not None  # went on as another: drop; not yet: wait
        await self._join(successor_channel(before, opened.key), [member.account_id])
        return True

    async def of(self, member: Member) -> list[Conversation]:
        """The member's conversations, in the order they joined them."""
        held = await self._loaded()
        joined = await self._channels.joined(member)
        return [Conversation(c, held[c.id]) for c in joined if c.id in held]

    async def carded(self) -> set[str]:
        """The people whose card this box holds: those a conversation can be started with."""
        return await self._cards_kept.carded()

    async def held(self) -> dict[str, tuple[str, ...]]:
        """Every conversation this box holds, with its members: what a backup keeps."""
        return dict(await self._loaded())

    async def is_conversation(self, channel_id: str) -> bool:
        return channel_id in await self._loaded()

    async def members(self, channel_id: str) -> tuple[str, ...] | None:
        """The members of a conversation, or None for any other channel."""
        return (await self._loaded()).get(channel_id)

    async def arrived(self, grants: tuple[Grant, ...]) -> int:
        """Keep the grants of a people announcement meant for people of this box, once
        each (one opened or refused is not kept again), and at most ``MAX_WAITING`` for
        one person."""
        local = await self._local_accounts()
        room: dict[str, int] = {}  # recipient -> how many more grants may wait for them
        fresh: list[Grant] = []
        for grant in (g for g in grants if g.recipient in local):
            account_id = local[grant.recipient]
            if await self._channels.is_member(account_id, grant.channel):
                continue
            if grant.recipient not in room:
                waiting = await self._book.waiting_grants(grant.recipient)
                room[grant.recipient] = MAX_WAITING - len(waiting)
            if room[grant.recipient] > 0:
                room[grant.recipient] -= 1
                fresh.append(grant)
        added = await self._book.add_grants("in", [(g.channel, g.recipient, g.raw) for g in fresh])
        if added:
            for recipient in {grant.recipient for grant in fresh}:
                for react in self._waiting:
                    react(local[recipient])
        return added

    async def grants_to_send(self) -> list[Grant]:
        since = int(time.time()) - GRANT_RESENT_FOR
        grants = []
        for raw in await self._book.grants_to_send(since):
            try:
                grants.append(direct.check_grant(canonical.loads(raw)))
            except InvalidEnvelope:
                continue
        return grants

    async def learn_cards(self, cards: list[Card]) -> None:
        """Keep the cards other boxes carried (each checked against its own signature);
        this box's own people's cards are made here, never taken from elsewhere."""
        local = await self._local_accounts()
        await self._cards_kept.add_cards(
            {
                card.key: canonical.dumps(card.as_json()).decode()
                for card in cards
                if card.key not in local
            }
        )

    async def local_cards(self) -> list[Card]:
        """The cards of this box's active people, made when each last logged in."""
        local = await self._local_accounts()
        stored = await self._cards_kept.cards(list(local))
        return [Card.kept(json.loads(text)) for text in stored.values()]

    async def _hold(
        self, channel: Channel, members: tuple[str, ...], account_ids: list[int]
    ) -> None:
        """Hold a conversation with its members, and join these accounts to it."""
        await self._channels.hold(channel, account_ids)
        await self._book.add_conversation(channel.id, members)
        (await self._loaded())[channel.id] = members
        self._tell_joined(channel, account_ids)

    async def _join(self, channel: Channel, account_ids: list[int]) -> None:
        await self._channels.hold(channel, account_ids)
        self._tell_joined(channel, account_ids)

    def _tell_joined(self, channel: Channel, account_ids: list[int]) -> None:
        for account_id in account_ids:
            for react in self._joined:
                react(account_id, channel.id)

    async def _is_other_channel(self, channel_id: str) -> bool:
        """Whether this box holds the channel as something else than a conversation (a
        grant cannot make a private channel one, and so unremovable)."""
        try:
            await self._channels.get(channel_id)
        except NotFound:
            return False
        return channel_id not in await self._loaded()

    async def _cards(self, keys: list[str]) -> dict[str, Card]:
        stored = await self._cards_kept.cards(keys)
        return {key: Card.kept(json.loads(text)) for key, text in stored.items()}

    async def _local_accounts(self) -> dict[str, int]:
        return {
            account.public_key: account.id
            for account in await self._accounts.accounts()
            if account.state == "active"
        }

    async def _loaded(self) -> dict[str, tuple[str, ...]]:
        if self._held is None:
            self._held = await self._book.conversations()
        return self._held


def conversation_channel(key: bytes, starter: str) -> Channel:
    """A conversation's channel: private, and shown by its members' names, not its own."""
    channel_id = private_channel_id(key, starter)
    return Channel(channel_id, CONVERSATION_NAME, "private", key, founder=starter)
