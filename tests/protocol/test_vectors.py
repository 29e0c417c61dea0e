"""docs/protocol-vectors.json against both implementations: the one written from
docs/PROTOCOL.md alone (``independent.py``) builds exactly these bytes, and chatbox builds,
accepts and opens them."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from eth_utils import to_checksum_address as to_checksum

from chatbox.adapters.chain import ChainClient
from chatbox.adapters.mdns import txt_record
from chatbox.domain import (
    canonical,
    channels,
    content,
    direct,
    envelope,
    manifest,
    merkle,
    moderation,
    sync,
)
from chatbox.domain.identity import Identity, fingerprint
from chatbox.domain.relations import Said, fold
from chatbox.domain.sealing import StreamOpener
from chatbox.errors import Forbidden, InvalidEnvelope
from chatbox.services.message_bodies import open_body, open_content, understand
from tests.protocol import independent


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    return dict(json.loads(independent.VECTORS.read_text("utf-8")))


def _identity(seed_hex: str) -> Identity:
    # The sealing half plays no part in any wire format; any 32 bytes do.
    return Identity.from_private_bytes(bytes.fromhex(seed_hex) + bytes(32))


def test_the_document_alone_builds_exactly_the_committed_vectors(
    vectors: dict[str, Any],
) -> None:
    assert independent.vectors() == vectors


def test_keys_canonical_form_and_public_channels(vectors: dict[str, Any]) -> None:
    keys = vectors["keys"]
    assert _identity(keys["author_seed"]).public_key == keys["author_public"]
    form = vectors["canonical"]
    assert canonical.dumps(form["value"]).decode() == form["bytes"]
    public = vectors["public_channel"]
    channel = channels.public_channel(public["typed"])
    assert (channel.name, channel.id) == (public["name"], public["id"])
    assert channels.pubsub_topic(channel) == public["topic"]


def test_envelopes_are_built_byte_for_byte_and_accepted(vectors: dict[str, Any]) -> None:
    author = _identity(vectors["keys"]["author_seed"])
    channel = vectors["public_channel"]["id"]
    for vector in vectors["envelopes"]:
        raw = vector["bytes"].encode()
        entry = envelope.parse(raw, expected_cid=vector["cid"])
        rebuilt = envelope.create(
            author, channel, entry.clock, list(entry.prev), entry.ts, entry.body
        )
        assert rebuilt.raw == raw and rebuilt.cid == vector["cid"]


def test_a_private_entry_opens_with_the_channel_key(vectors: dict[str, Any]) -> None:
    private = vectors["private_channel"]
    channel = channels.Channel(private["id"], "family", "private", bytes.fromhex(private["key"]))
    assert channels.pubsub_topic(channel) == private["topic"]
    founder = vectors["keys"]["author_public"]
    assert channels.private_channel_id(bytes.fromhex(private["key"]), founder) == private["id"]
    entry = envelope.parse(private["entry"]["bytes"].encode(), private["entry"]["cid"])
    assert open_body(channel, entry.body) == json.loads(private["body_plaintext"])


def test_the_invite_is_built_and_accepted(vectors: dict[str, Any]) -> None:
    private = vectors["private_channel"]
    channel = channels.Channel(
        private["id"],
        private["invite_name"],
        "private",
        bytes.fromhex(private["key"]),
        founder=vectors["keys"]["author_public"],
    )
    assert channels.encode_invite(channel) == private["invite"]
    assert channels.decode_invite(private["invite"]) == channel


def test_an_invite_carries_the_name_as_written(vectors: dict[str, Any]) -> None:
    private = vectors["private_channel"]
    key = bytes.fromhex(private["key"])
    written = private["invite_titled_name"]
    founder = vectors["keys"]["author_public"]
    channel = channels.Channel(
        private["id"], private["invite_titled_normal"], "private", key, written, founder
    )
    assert channels.encode_invite(channel) == private["invite_titled"]
    accepted = channels.decode_invite(private["invite_titled"])
    assert (accepted.name, accepted.title) == (private["invite_titled_normal"], written)


def test_announcements_are_built_byte_for_byte_and_accepted(vectors: dict[str, Any]) -> None:
    box = _identity(vectors["keys"]["box_seed"])
    signed = vectors["announcements"]["public_heads"].encode()
    peer = vectors["announcements"]["private_sender_peer"]
    heads = sync.decode(signed, vectors["public_channel"]["id"], None, peer)
    assert heads.kind == "heads" and heads.box == vectors["keys"]["box_public"]
    assert sync.encode(heads, box, None) == signed
    assert envelope.parse(heads.entries[0]).cid == heads.cids[0]
    # A display name, with a space and a letter beyond ASCII, signed as raw UTF-8 (section 1).
    assert heads.people == ((vectors["keys"]["author_public"], "Ada Łovelace"),)
    assert "Ada Łovelace".encode() in signed
    private = vectors["private_channel"]
    sealed = base64.b64decode(vectors["announcements"]["private_heads_sealed"])
    opened = sync.decode(sealed, private["id"], bytes.fromhex(private["key"]), peer)
    assert opened.cids == (private["entry"]["cid"],)


def test_the_sealed_file_opens(vectors: dict[str, Any]) -> None:
    file = vectors["sealed_file"]
    opener = StreamOpener(bytes.fromhex(file["key"]), file["aad"].encode())
    plaintext = opener.feed(bytes.fromhex(file["sealed"])) + opener.finish()
    assert plaintext.decode() == file["plaintext"]


def test_merkle_leaves_root_and_the_manifest(vectors: dict[str, Any]) -> None:
    tree = vectors["merkle"]
    leaves = [
        merkle.leaf_hash(bytes.fromhex(nonce), channel, heads)
        for nonce, channel, heads in zip(
            tree["nonces"], tree["channels"], tree["heads"], strict=True
        )
    ]
    assert [leaf.hex() for leaf in leaves] == tree["leaves"]
    assert merkle.root(leaves).hex() == tree["root"]
    for index, leaf in enumerate(leaves):
        assert merkle.fold(leaf, merkle.path(leaves, index)).hex() == tree["root"]
    batch = manifest.parse(vectors["manifest"].encode())
    assert batch.box == vectors["keys"]["box_public"]
    assert batch.open_entries[0].leaf.hex() == tree["leaves"][0]


def test_want_and_pack_are_built_byte_for_byte_and_the_sample_follows_its_rule(
    vectors: dict[str, Any],
) -> None:
    keys, announcements = vectors["keys"], vectors["announcements"]
    channel, peer = vectors["public_channel"]["id"], announcements["private_sender_peer"]
    want = sync.decode(announcements["want"].encode(), channel, None, peer)
    assert (want.kind, want.to) == ("want", keys["box_public"])
    assert sync.encode(want, _identity(keys["author_seed"]), None) == announcements["want"].encode()
    pack = sync.decode(announcements["pack"].encode(), channel, None, peer)
    assert (pack.kind, pack.to) == ("pack", keys["author_public"])
    assert sync.encode(pack, _identity(keys["box_seed"]), None) == announcements["pack"].encode()
    # What the pack carries is what the want's sample does not reach in the responder's log.
    log = {}
    for vector in vectors["envelopes"]:
        entry = envelope.parse(vector["bytes"].encode())
        log[entry.cid] = (entry.clock, list(entry.prev))
    assert [envelope.parse(raw).cid for raw in pack.entries] == sync.lacking(log, want.cids)
    rule = vectors["want_sample"]
    assert sync.sample(rule["newest_first"]) == rule["sample"]


def test_the_mdns_record_is_the_documented_one(vectors: dict[str, Any]) -> None:
    record = vectors["mdns_txt"]
    box = _identity(vectors["keys"]["box_seed"])
    addresses = record["addrs"].split()
    built = txt_record(
        box.public_key, fingerprint(box.public_key), record["peer"], addresses, 80, record["v"]
    )
    assert built == record


def test_messages_replies_edits_reactions_and_deletes_are_understood_and_folded(
    vectors: dict[str, Any],
) -> None:
    """Section 5.1: each relation is read as documented, and the rules fold them alike."""
    relations = vectors["relations"]
    channel = channels.public_channel(vectors["public_channel"]["typed"])
    blocks = {
        relations[name]["cid"]: relations[name]["bytes"].encode()
        for name in ("content", "reply_content", "edit_content")
    }
    understood = {}
    for name in ("message", "reply", "edit", "reaction", "delete"):
        entry = envelope.parse(relations[name]["bytes"].encode(), relations[name]["cid"])
        reference = entry.body.get("content", {})
        understood[name] = understand(channel, entry, blocks.get(reference.get("cid", "")))
    message_cid = relations["message"]["cid"]
    assert [understood[n].kind for n in understood] == [
        "message",
        "reply",
        "edit",
        "react",
        "delete",
    ]
    assert {understood[n].target for n in ("reply", "edit", "reaction", "delete")} == {message_cid}
    assert understood["message"].words == "Meet at 4?"
    assert understood["reaction"].reaction == "👍" and understood["reaction"].reaction_on
    about = [
        Said(i.entry.cid, i.kind, message_cid, i.entry.author, False, i.reaction, i.reaction_on)
        for i in (understood["reply"], understood["edit"], understood["reaction"])
    ]
    folded = fold({message_cid: understood["message"].entry.author}, about)[message_cid]
    assert folded.replies == 1 and folded.reactions == {"👍": [vectors["keys"]["box_public"]]}
    assert folded.shown_edit == relations["edit"]["cid"]
    shown = content.parse(blocks[understood["edit"].content_cid or ""])
    assert shown == {"text": relations["shown_after_edit"]}
    # The same edit signed by anyone but the author does not count.
    stranger = [Said("x", "edit", message_cid, "ff" * 32)]
    assert (
        fold({message_cid: understood["message"].entry.author}, stranger)[message_cid].edits == []
    )


def test_a_private_message_names_a_sealed_content_block(vectors: dict[str, Any]) -> None:
    private, relations = vectors["private_channel"], vectors["relations"]
    channel = channels.Channel(private["id"], "family", "private", bytes.fromhex(private["key"]))
    entry = envelope.parse(
        relations["private_message"]["bytes"].encode(), relations["private_message"]["cid"]
    )
    block = base64.b64decode(relations["private_content_sealed"])
    indexed = understand(channel, entry, block)
    assert indexed.kind == "message" and indexed.words is None  # nothing private is indexed
    assert open_content(channel, block) == {"text": "only members read this"}
    assert content.parse(relations["private_content_plaintext"].encode()) == {
        "text": "only members read this"
    }


def test_moderation_acts_are_read_and_folded_as_documented(vectors: dict[str, Any]) -> None:
    """Section 5.2: the founder the registry's creator signed for, the acts that count, a
    moderator's delete, and a banned key's post beside its ban."""
    acts, keys = vectors["moderation"], vectors["keys"]
    channel = channels.public_channel(vectors["public_channel"]["typed"])
    names = (
        "found",
        "false_found",
        "appoint",
        "moderator_delete",
        "ban",
        "barred_post",
        "settings",
        "dismiss",
        "beside_dismissal",
    )
    entries = {n: envelope.parse(acts[n]["bytes"].encode(), acts[n]["cid"]) for n in names}
    kinds = [understand(channel, entries[n], None).kind for n in names]
    assert kinds == ["mod", "mod", "mod", "delete", "mod", "message", "mod", "mod", "mod"]
    # The proof is an Ethereum signed message (EIP-191) by the registry's creator.
    proof = entries["found"].body["mod"]["proof"]
    recover = ChainClient("http://127.0.0.1:9", "").signer_of
    assert recover(acts["founder_statement"], proof) == to_checksum(acts["creator_address"])
    statement = moderation.founder_statement(channel.id, keys["author_public"])
    assert statement == acts["founder_statement"]

    def is_founding(act: moderation.Act) -> bool:
        signer = recover(moderation.founder_statement(channel.id, act.author), act.proof or "")
        return signer is not None and signer.lower() == acts["creator_address"]

    acts_of = [
        moderation.Act(
            e.cid,
            e.clock,
            e.author,
            e.body["mod"]["act"],
            e.body["mod"].get("key"),
            e.body["mod"].get("proof"),
            _settings_of(e.body["mod"]),
        )
        for e in entries.values()
        if "mod" in e.body
    ]
    parents = {cid: set(e.prev) for cid, e in ((e.cid, e) for e in entries.values())}

    def ancestors_of(cid: str) -> set[str]:
        seen: set[str] = set()
        todo = list(parents.get(cid, ()))
        while todo:
            parent = todo.pop()
            if parent not in seen:
                seen.add(parent)
                todo.extend(parents.get(parent, ()))
        return seen

    # By the log's order alone the dismissed key's unban, at clock 13, would count; judged
    # against what the dismissal had seen, it counts for nothing.
    by_order = moderation.fold(acts_of, is_founding)
    dismissal = acts["dismiss"]["cid"]
    assert [d.cid for d in by_order.dismissals[keys["box_public"]]] == [dismissal]
    assert not by_order.is_banned(acts["third_public"])
    folded = moderation.fold(acts_of, is_founding, {dismissal: ancestors_of(dismissal)})
    assert acts["beside_dismissal"]["cid"] in folded.ignored
    assert acts["beside_dismissal"]["cid"] not in folded.unauthorized
    assert folded.founders == {keys["author_public"]}
    assert folded.unauthorized == [acts["false_found"]["cid"]]
    assert folded.moderators == {keys["author_public"]}
    delete = entries["moderator_delete"]
    assert folded.may_act(delete.author, delete.sort_key, delete.cid)  # seen when dismissed
    assert folded.is_banned(acts["third_public"])
    bans = folded.bans[acts["third_public"]]
    assert moderation.barred(acts["barred_post"]["cid"], bans, ancestors_of)
    assert folded.settings == moderation.ChannelSettings(
        "Soldering on Thursdays",
        "Bring safety glasses.",
        (vectors["envelopes"][1]["cid"],),
        "moderators",
    )
    assert [closing.cid for closing in folded.closings] == [acts["settings"]["cid"]]


def _settings_of(act: dict[str, Any]) -> moderation.ChannelSettings | None:
    if act["act"] != "settings":
        return None
    return moderation.ChannelSettings(
        act["topic"], act["description"], tuple(act["pinned"]), act["posting"]
    )


def test_cards_grants_and_the_people_announcement_are_read_as_documented(
    vectors: dict[str, Any],
) -> None:
    keys, given = vectors["keys"], vectors["direct"]
    ada = Identity.from_private_bytes(
        bytes.fromhex(keys["author_seed"]) + bytes.fromhex(given["ada_sealing_secret"])
    )
    grace = Identity.from_private_bytes(
        bytes.fromhex(given["grace_seed"]) + bytes.fromhex(given["grace_sealing_secret"])
    )
    assert direct.make_card(ada).as_json() == given["ada_card"]  # Ed25519 is deterministic
    assert direct.check_card(given["grace_card"]).seal == grace.sealing_public_key

    received = direct.check_grant(given["grant_to_grace"])
    opened = direct.open_grant(received, grace)
    assert opened.key.hex() == given["conversation_key"]
    assert opened.channel == given["conversation_id"]
    assert list(opened.members) == given["members"]
    assert opened.sender == ada.public_key
    with pytest.raises(Forbidden):  # meant for Grace: Ada's own keys do not open it
        direct.open_grant(received, ada)

    people = direct.decode_people(given["people"].encode(), "12D3KooWPeerOfTheSendingBoxsKuboNode")
    assert people.box == keys["box_public"]
    assert [(p.card.key, p.handle, p.name) for p in people.people] == [
        (ada.public_key, "ada", "Ada Łovelace")
    ]
    assert people.grants[0].raw == direct.check_grant(given["grant_to_grace"]).raw
    with pytest.raises(InvalidEnvelope):  # relayed by a peer other than the one named
        direct.decode_people(given["people"].encode(), "12D3KooWSomeOtherPeer")

    # Grace's join of a private channel, and the successor's key after a removal there.
    moderation.check_act(given["join_act"])
    after = direct.open_grant(direct.check_grant(given["successor_grant_to_grace"]), grace)
    assert after.key.hex() == given["successor_key"] and after.channel == given["successor_id"]
    assert after.follows == vectors["private_channel"]["id"]
    assert after.founder == ada.public_key and after.members == ()
