"""10,000 random replies, reactions, edits, deletes and moderation acts from four people, a
third of them tampered with after signing, through the path a peer's entries take (parse,
understand, index) into a real node's SQLite: no crash, no tampered entry accepted, and
what the box shows equals what a separate model of the rules in docs/PROTOCOL.md section
5.1 says. This box reads no registry, so no one founds the channel and no act counts
(section 5.2): a ban or a moderator's delete signed by anyone changes nothing."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from chatbox.daemon import Node
from chatbox.domain import envelope
from chatbox.domain.channels import Channel
from chatbox.domain.cid import raw_cid
from chatbox.domain.identity import Identity
from chatbox.errors import InvalidEnvelope
from chatbox.ports import IndexedEntry
from chatbox.services.accounts import Member
from chatbox.services.message_bodies import content_block

pytestmark = pytest.mark.usefixtures("no_blocking")

ENTRIES = 10_000
BATCH = 250
EMOJI = ["👍", "🎉", "👩‍🔬", "x"]


@dataclass
class Expected:
    """What the rules say of one message, worked out apart from the box's code."""

    author: str
    text: str
    deleted: bool = False
    edits: list[tuple[int, str, str]] = field(default_factory=list)  # (clock, cid, text)
    reacted: dict[tuple[str, str], tuple[int, str, bool]] = field(default_factory=dict)
    replies: set[tuple[str, str]] = field(default_factory=set)  # (cid, author)

    def shown_text(self) -> str | None:
        if self.deleted:
            return None
        return max(self.edits)[2] if self.edits else self.text

    def reactions(self) -> dict[str, set[str]]:
        shown: dict[str, set[str]] = {}
        for (emoji, person), (_, _, on) in self.reacted.items():
            if on:
                shown.setdefault(emoji, set()).add(person)
        return shown


def _tampered(rng: random.Random, raw: bytes, impostor: str, author: str) -> bytes:
    """The signed bytes changed after signing, in one of the ways a forger would try."""
    way = rng.randrange(3)
    if way == 0:  # claim another author, keep the signature
        return raw.replace(author.encode(), impostor.encode())
    if way == 1:  # change what the entry says
        return raw.replace(b'"on":true', b'"on":false').replace(b'"clock":', b'"clock":1', 1)
    position = rng.randrange(len(raw))  # flip one bit anywhere
    return raw[:position] + bytes([raw[position] ^ (1 << rng.randrange(8))]) + raw[position + 1 :]


async def test_ten_thousand_fuzzed_relation_entries_fold_as_the_rules_say(
    node: Node, alice: Member
) -> None:
    rng = random.Random(15)
    messages = node.services.messages
    channel: Channel = await node.services.channels.create(alice, "fuzz", "public")
    people = [alice.identity, Identity.generate(), Identity.generate(), Identity.generate()]
    stranger = Identity.generate()  # never writes; forgers claim to be it
    expected: dict[str, Expected] = {}
    for number in range(20):
        posted = await messages.post_text(alice, channel.id, f"message {number}")
        expected[posted.cid] = Expected(alice.identity.public_key, posted.text or "")
    anchor = next(iter(expected))
    targets = [*expected, raw_cid(b"a block no box holds")]
    kinds: dict[str, str] = {}  # cid -> kind, of the relation entries the box accepted
    accepted: set[str] = set()
    tampered: set[bytes] = set()
    batch: list[tuple[bytes, bytes | None]] = []

    async def flush() -> None:
        opened: list[IndexedEntry] = []
        for raw, block in batch:
            try:
                entry = envelope.parse(raw)
                opened.append(messages.understand(channel, entry, block))
            except InvalidEnvelope:
                continue
            assert raw not in tampered, "a tampered entry was accepted"
        for entry in await messages.accept_many(channel, opened):
            accepted.add(entry.cid)
        batch.clear()

    deletes: dict[str, set[str]] = {}  # target -> who wrote a delete of it
    for _ in range(ENTRIES):
        person = rng.choice(people)
        target = rng.choice(targets)
        kind = rng.choices(["reply", "edit", "react", "delete", "mod"], [2, 3, 5, 0.08, 0.3])[0]
        block, words = None, ""
        if kind == "mod":
            act = rng.choice(["found", "appoint", "dismiss", "ban", "unban"])
            about = (
                {"proof": rng.randbytes(65).hex()}
                if act == "found"
                else {"key": rng.choice(people).public_key}
            )
            body = {"mod": {"act": act, **about}}
        elif kind == "react":
            body = {"react": {"to": target, "emoji": rng.choice(EMOJI), "on": rng.random() < 0.7}}
        elif kind == "delete":
            # now and then a delete of a reply, of a reaction or of a delete
            body = {"delete": rng.choice(list(kinds)) if kinds and rng.random() < 0.3 else target}
        else:
            words = f"{kind} {rng.randrange(10**6)}"
            block = content_block(channel, {"text": words})
            relation = "re" if kind == "reply" else "edit"
            body = {"content": {"cid": raw_cid(block), relation: target}}
        clock = rng.randrange(2, 400)
        signed = envelope.create(person, channel.id, clock, [anchor], clock, body)
        if rng.random() < 1 / 3:
            forged = _tampered(rng, signed.raw, stranger.public_key, person.public_key)
            if forged != signed.raw:
                tampered.add(forged)
                batch.append((forged, block))
                continue
        kinds[signed.cid] = kind
        batch.append((signed.raw, block))
        _model(expected, deletes, signed, kind, body, words)
        if len(batch) >= BATCH:
            await flush()
    await flush()

    assert accepted == set(kinds), "every untampered entry is indexed, and only those"
    assert len(tampered) > 2_500
    assert 3 <= sum(message.deleted for message in expected.values()) <= 17
    for cid, message in expected.items():
        shown = await messages.find(alice, cid)
        assert shown.deleted == message.deleted, cid
        assert shown.text == message.shown_text(), cid
        if message.deleted:
            continue
        # a reply its own author deleted is out of the count
        live = {reply for reply, author in message.replies if author not in deletes.get(reply, ())}
        assert shown.replies == len(live), cid
        assert {emoji: set(keys) for emoji, keys in shown.reactions.items()} == (
            message.reactions()
        ), cid


def _model(
    expected: dict[str, Expected],
    deletes: dict[str, set[str]],
    entry: envelope.Envelope,
    kind: str,
    body: dict[str, Any],
    words: str,
) -> None:
    """The rules of docs/PROTOCOL.md section 5.1, applied to one valid entry."""
    if kind == "mod":
        return  # no founder, so no act counts
    if kind == "react":
        react = body["react"]
        message = expected.get(react["to"])
        if message is not None:
            key = (react["emoji"], entry.author)
            latest = message.reacted.get(key)
            if latest is None or latest[:2] < (entry.clock, entry.cid):
                message.reacted[key] = (entry.clock, entry.cid, react["on"])
    elif kind == "delete":
        deletes.setdefault(body["delete"], set()).add(entry.author)
        message = expected.get(body["delete"])
        if message is not None and message.author == entry.author:
            message.deleted = True
    else:
        reference = body["content"]
        message = expected.get(reference.get("re") or reference["edit"])
        if message is None:
            return
        if kind == "reply":
            message.replies.add((entry.cid, entry.author))
        elif entry.author == message.author:
            message.edits.append((entry.clock, entry.cid, words))
