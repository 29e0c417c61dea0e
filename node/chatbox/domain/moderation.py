"""Who moderates a channel and what their acts do, folded from the channel's own log by the
rules every box applies the same way (docs/PROTOCOL.md section 5.2).

- A public channel's **founders** are the authors of ``found`` acts whose proof the
  channel's creator in the on-chain registry signed: the registry, not the log, says who
  created a name, so no box can claim a channel another box registered.
- Acts are folded in the log's order; an act counts when its author is a moderator at
  that point (founders always are) and did not write it beside their own dismissal.
  ``appoint`` and ``dismiss`` change who moderates (a founder stays one); ``ban`` and
  ``unban`` change who may write (a moderator cannot be banned: dismiss first).
- A delete counts from the message's author, or from whoever moderates at the delete's
  point in the log.
- What a banned key writes after its ban counts for nothing; "after" is by the log's
  links, not its clocks (section 5.2 says why), and ``barred`` below says it exactly.
- ``settings`` (topic, description, pinned messages, who may post) is whole each time:
  the last counted one is the channel's. A channel where only moderators may post treats
  every key that does not moderate as banned from posting, by the same rule.
- A private channel's founder is the key its id binds. Each member says ``join`` with
  their card, so every box knows whom to seal a new key to. ``remove`` bans a member and
  names the channel's successor: a new key, sealed to the members left, carries the
  channel on; this one is closed. The successor starts from what this one folded to.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from chatbox.domain.cid import check_raw_cid
from chatbox.domain.direct import check_card
from chatbox.errors import InvalidEnvelope, InvalidInput

FOUNDER_CONTEXT = "chatbox-founder-v1"
ACTS_ON_KEYS = frozenset({"appoint", "dismiss", "ban", "unban"})
ANYONE_S_ACTS = frozenset({"join"})  # what a key says of itself, moderating or not
_HEX64 = re.compile(r"[0-9a-f]{64}")
_PROOF = re.compile(r"[0-9a-f]{130}")  # an Ethereum signature: r, s and v
MAX_TOPIC = 200
MAX_DESCRIPTION = 1000
MAX_PINNED = 25
_SETTINGS_FIELDS = frozenset({"act", "topic", "description", "pinned", "posting"})
POSTING = ("everyone", "moderators")

Position = tuple[int, str]  # (clock, cid): a place in the log's order


def founder_statement(channel_id: str, key: str) -> str:
    """What the registry's creator of ``channel_id`` signs (EIP-191) to make ``key`` a founder."""
    return f"{FOUNDER_CONTEXT}\n{channel_id}\n{key}"


def check_act(value: Any) -> None:
    """Accept ``{"act": "found", "proof": <130 hex>}`` or ``{"act": <act>, "key": <64 hex>}``."""
    if not isinstance(value, dict) or "act" not in value:
        raise InvalidEnvelope("a moderation act needs its act")
    act = value["act"]
    if act == "found":
        if set(value) != {"act", "proof"} or not isinstance(value["proof"], str):
            raise InvalidEnvelope("a founding act holds exactly act and proof")
        if not _PROOF.fullmatch(value["proof"]):
            raise InvalidEnvelope("a founding proof is 65 bytes of hex")
    elif act == "settings":
        check_settings(value)
    elif act == "join":
        if set(value) != {"act", "card"}:
            raise InvalidEnvelope("a join act holds exactly act and card")
        check_card(value["card"])
    elif act == "remove":
        if set(value) != {"act", "key", "to"}:
            raise InvalidEnvelope("a remove act holds exactly act, key and to")
        if not all(isinstance(value[n], str) and _HEX64.fullmatch(value[n]) for n in ("key", "to")):
            raise InvalidEnvelope("a remove act's key and successor are 32-byte hex values")
    elif act in ACTS_ON_KEYS:
        if set(value) != {"act", "key"} or not isinstance(value["key"], str):
            raise InvalidEnvelope(f"a {act} act holds exactly act and key")
        if not _HEX64.fullmatch(value["key"]):
            raise InvalidEnvelope("a moderation act's key is a 32-byte hex value")
    else:
        raise InvalidEnvelope("unknown moderation act", detail=str(act)[:20])


def check_settings(value: dict[str, Any]) -> None:
    if set(value) != _SETTINGS_FIELDS:
        raise InvalidEnvelope(
            "a settings act holds exactly act, topic, description, pinned and posting"
        )
    if value["posting"] not in POSTING:
        raise InvalidEnvelope("posting is 'everyone' or 'moderators'")
    topic, description, pinned = value["topic"], value["description"], value["pinned"]
    if not isinstance(topic, str) or len(topic) > MAX_TOPIC:
        raise InvalidEnvelope(f"a channel's topic is text of at most {MAX_TOPIC} characters")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise InvalidEnvelope(
            f"a channel's description is text of at most {MAX_DESCRIPTION} characters"
        )
    if not isinstance(pinned, list) or len(pinned) > MAX_PINNED or len(set(pinned)) != len(pinned):
        raise InvalidEnvelope(f"pinned is a list of at most {MAX_PINNED} distinct CIDs")
    try:
        for cid in pinned:
            check_raw_cid(cid)
    except InvalidInput as exc:
        raise InvalidEnvelope("pinned holds an invalid CID", detail=exc.detail) from exc


@dataclass(frozen=True)
class ChannelSettings:
    topic: str = ""
    description: str = ""
    pinned: tuple[str, ...] = ()  # message CIDs, in the order the moderator gave
    posting: str = "everyone"  # or "moderators": who may write messages, replies and edits


class Act(NamedTuple):
    """One moderation entry of a channel's log, opened."""

    cid: str
    clock: int
    author: str
    act: str
    key: str | None = None  # whom appoint, dismiss, ban, unban and remove are about
    proof: str | None = None  # a founding act's registry signature
    settings: ChannelSettings | None = None  # what a settings act sets
    card: dict[str, Any] | None = None  # a join act's card: the key to seal new keys to
    to: str | None = None  # a remove act's successor channel

    @property
    def position(self) -> Position:
        return (self.clock, self.cid)


@dataclass(frozen=True)
class Ban:
    cid: str  # the counted ban
    lifted_by: tuple[str, ...] = ()  # the counted unbans that follow it


@dataclass
class Moderation:
    """A channel's moderation as its log says: who founded it and moderates, who is banned."""

    founders: frozenset[str] = frozenset()
    starting: frozenset[str] = frozenset()  # a successor's: who moderated the channel before
    ignored: list[str] = field(default_factory=list)  # the acts that did not take effect
    # Of those, the acts their author could not make: a founding proof the registry's
    # creator did not sign, an act from a key that did not moderate there. A receiver that
    # can tell refuses them (an act that merely changed nothing is not refused).
    unauthorized: list[str] = field(default_factory=list)
    # Who moderated after each counted change, in the log's order.
    _changes: list[Position] = field(default_factory=list)
    _moderators_after: list[frozenset[str]] = field(default_factory=list)
    bans: dict[str, list[Ban]] = field(default_factory=dict)  # key -> its bans, in order
    settings: ChannelSettings = field(default_factory=ChannelSettings)
    # The settings acts that let only moderators post, each with those that opened the
    # channel again after it: a ban of every key that does not moderate.
    closings: list[Ban] = field(default_factory=list)
    dismissals: dict[str, list[Act]] = field(default_factory=dict)  # key -> counted ones
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> their card
    successor: str | None = None  # the channel a counted remove continued this one as
    removed: frozenset[str] = frozenset()  # the keys removed, here or before
    # key -> each counted dismissal's place and ancestors, when the fold was given them
    _beside_dismissal: dict[str, list[tuple[Position, set[str]]]] = field(default_factory=dict)

    @property
    def moderators(self) -> frozenset[str]:
        if self._moderators_after:
            return self._moderators_after[-1]
        return self.founders | self.starting

    def moderates_at(self, key: str, position: Position) -> bool:
        """Whether ``key`` moderated just before ``position`` in the log's order."""
        index = bisect_left(self._changes, position)
        if index:
            return key in self._moderators_after[index - 1]
        return key in self.founders or key in self.starting

    def beside_dismissal(self, key: str, position: Position, cid: str) -> bool:
        """Whether ``key`` wrote ``cid`` before a dismissal of theirs in the log's order but
        without the dismissal having seen it: beside it, so it counts for nothing."""
        return any(
            position < place and cid not in seen
            for place, seen in self._beside_dismissal.get(key, [])
        )

    def may_act(self, key: str, position: Position, cid: str) -> bool:
        """Whether the entry ``cid`` of ``key`` at ``position`` is a moderator's act."""
        return self.moderates_at(key, position) and not self.beside_dismissal(key, position, cid)

    def is_banned(self, key: str) -> bool:
        """Whether ``key``'s latest counted ban stands (nothing it writes now counts)."""
        bans = self.bans.get(key, [])
        return bool(bans) and not bans[-1].lifted_by

    def may_post(self, key: str) -> bool:
        """Whether ``key`` may write messages, replies and edits now."""
        closed = self.settings.posting == "moderators" and key not in self.moderators
        return not closed and not self.is_banned(key) and self.successor is None


def fold(
    acts: Iterable[Act],
    is_founding: Callable[[Act], bool],
    ancestors_of: Mapping[str, set[str]] | None = None,
    start: Start | None = None,
) -> Moderation:
    """Fold a channel's acts, in the log's order; ``is_founding`` checks a founding proof
    (against the registry: the caller has it). A private channel ``start``s from its
    founder, and a successor from what the channel it continues folded to.

    With ``ancestors_of`` (each counted dismissal's ancestors, as ``dismissals`` of a fold
    without them lists), an act its author wrote beside their dismissal, not seen by it,
    counts for nothing: a dismissed key cannot act on by naming old parents and a low
    clock. Without it, the order alone decides (what ``dismissals`` needs to be found)."""
    ordered = sorted(acts, key=lambda act: act.position)
    # Each proof checked once: recovering a signature's key is the costly part of a fold.
    founding = {act.cid for act in ordered if act.act == "found" and is_founding(act)}
    start = start or Start()
    founders = start.founders | frozenset(act.author for act in ordered if act.cid in founding)
    first = _fold_in_order(ordered, founders, founding, {}, start)
    if not ancestors_of or not first.dismissals:
        return first
    beside = {
        key: [(dismissal.position, ancestors_of.get(dismissal.cid, set())) for dismissal in theirs]
        for key, theirs in first.dismissals.items()
    }
    return _fold_in_order(ordered, founders, founding, beside, start)


@dataclass(frozen=True)
class Start:
    """What a channel's moderation starts from before its own acts."""

    founders: frozenset[str] = frozenset()  # a private channel's: its founder
    moderators: frozenset[str] = frozenset()  # a successor's: who moderated the one before
    members: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    bans: Mapping[str, list[Ban]] = field(default_factory=dict)
    removed: frozenset[str] = frozenset()
    settings: ChannelSettings = field(default_factory=ChannelSettings)
    closings: tuple[Ban, ...] = ()
    private: bool = False  # only a private channel is continued by a remove

    @classmethod
    def private_channel(cls, founder: str, before: Moderation | None = None) -> Start:
        """A private channel's start: its founder, or what the channel it continues (the
        one ``before`` folds) ended as: its moderators, members, bans and removals."""
        if before is None:
            return cls(frozenset({founder}), private=True)
        return cls(
            frozenset({founder}),
            before.moderators - {founder},
            {k: card for k, card in before.members.items() if k not in before.removed},
            {key: list(bans) for key, bans in before.bans.items()},
            before.removed,
            before.settings,
            tuple(before.closings),
            private=True,
        )


def _fold_in_order(
    ordered: list[Act],
    founders: frozenset[str],
    founding: set[str],
    beside: dict[str, list[tuple[Position, set[str]]]],
    start: Start,
) -> Moderation:
    folded = Moderation(
        founders=founders,
        starting=start.moderators,
        _beside_dismissal=beside,
        removed=start.removed,
        settings=start.settings,
        closings=list(start.closings),
    )
    folded.members = dict(start.members)
    moderators = set(founders) | start.moderators
    banned: dict[str, list[Ban]] = {key: list(bans) for key, bans in start.bans.items()}
    for act in ordered:
        if folded.successor is not None:  # closed: nothing after the remove counts
            folded.ignored.append(act.cid)
            continue
        if act.act == "join":
            assert act.card is not None  # check_act holds a join act to its card
            if act.card["key"] != act.author:  # a card is joined by its own key alone
                folded.ignored.append(act.cid)
                folded.unauthorized.append(act.cid)
            elif act.author not in folded.removed:
                folded.members[act.author] = act.card
            continue
        if act.act == "found":
            if act.cid not in founding:
                folded.ignored.append(act.cid)
                folded.unauthorized.append(act.cid)
            continue
        if act.author not in moderators:
            folded.ignored.append(act.cid)
            folded.unauthorized.append(act.cid)
            continue
        if folded.beside_dismissal(act.author, act.position, act.cid):
            folded.ignored.append(act.cid)  # perhaps only written at the same time: not refused
            continue
        if act.act == "settings":
            assert act.settings is not None  # check_act holds a settings act to its fields
            closed = folded.settings.posting == "moderators"
            if act.settings.posting == "moderators" and not closed:
                folded.closings.append(Ban(act.cid))
            elif act.settings.posting == "everyone" and closed:
                last = folded.closings[-1]
                folded.closings[-1] = Ban(last.cid, (*last.lifted_by, act.cid))
            folded.settings = act.settings
            continue
        if not _changes_something(act, moderators, founders, banned):
            folded.ignored.append(act.cid)
            continue
        key = act.key
        assert key is not None  # check_act holds acts on keys to one
        if act.act == "remove":
            if not start.private or folded.successor is not None:
                folded.ignored.append(act.cid)  # continued already: the first remove holds
                continue
            folded.successor = act.to
            folded.removed = folded.removed | {key}
            banned.setdefault(key, []).append(Ban(act.cid))
        elif act.act == "appoint":
            moderators.add(key)
        elif act.act == "dismiss":
            moderators.discard(key)
            folded.dismissals.setdefault(key, []).append(act)
        elif act.act == "ban":
            banned.setdefault(key, []).append(Ban(act.cid))
        else:  # unban
            last = banned[key][-1]
            banned[key][-1] = Ban(last.cid, (*last.lifted_by, act.cid))
        folded._changes.append(act.position)
        folded._moderators_after.append(frozenset(moderators))
    folded.bans = banned
    return folded


def _changes_something(
    act: Act, moderators: set[str], founders: frozenset[str], banned: dict[str, list[Ban]]
) -> bool:
    """An act counts only when it means something: no dismissing a founder or one who does
    not moderate, no banning a moderator or one banned already, no lifting a ban that is
    not there."""
    key = act.key
    standing = bool(banned.get(key or "")) and not banned[key or ""][-1].lifted_by
    if act.act == "appoint":
        return key not in moderators and not standing
    if act.act == "dismiss":
        return key in moderators and key not in founders
    if act.act == "remove":  # a banned member may still be removed: their key changes
        return key not in moderators
    if act.act == "ban":
        return key not in moderators and not standing
    return standing  # unban


def barred(
    entry: str,
    bans: list[Ban],
    ancestors_of: Callable[[str], set[str]],
) -> bool:
    """Whether an entry by a banned key counts for nothing: some counted ban of its author
    does not have it as an ancestor (the moderator had not seen it when banning), and no
    unban following that ban is among the entry's own ancestors (its author had not seen
    the ban lifted). ``ancestors_of(cid)`` gives the entries ``cid`` names, directly or not.
    """
    mine = ancestors_of(entry)
    for ban in bans:
        if entry in ancestors_of(ban.cid) or entry == ban.cid:
            continue
        if not any(unban in mine for unban in ban.lifted_by):
            return True
    return False
