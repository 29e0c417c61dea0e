"""The wire formats built from docs/PROTOCOL.md alone, without importing chatbox.

This is what a box written by someone else would do: it uses only the standard library,
``cryptography`` (Ed25519, AES-256-GCM) and ``pycryptodome`` (keccak-256). The tests
check that chatbox accepts what it builds and that it reproduces the committed vectors;
``python -m tests.protocol.independent`` writes those vectors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import sys
import unicodedata
from pathlib import Path
from typing import Any

from Crypto.Hash import keccak
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VECTORS = Path(__file__).resolve().parents[2] / "docs" / "protocol-vectors.json"


def canonical(value: Any) -> bytes:
    """PROTOCOL.md §1: sorted keys, no white space, UTF-8 as is, integers only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def raw_cid(data: bytes) -> str:
    """§2: CIDv1, raw codec, sha2-256, multibase base32 lower case without padding."""
    binary = bytes([0x01, 0x55, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(binary).decode().lower().rstrip("=")


def public_key(seed: bytes) -> str:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw().hex()


def sign(seed: bytes, context: bytes, unsigned: dict[str, Any]) -> str:
    """§3: Ed25519 over the context label followed by the canonical form without ``sig``."""
    return Ed25519PrivateKey.from_private_bytes(seed).sign(context + canonical(unsigned)).hex()


def public_channel_id(name: str) -> tuple[str, str]:
    """§4: NFKC, case-folded, white space collapsed; keccak-256 of its UTF-8."""
    normal = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
    return normal, keccak.new(digest_bits=256, data=normal.encode()).hexdigest()


def private_channel_id(key: bytes, founder: str) -> str:
    """§4: a private channel's id is bound to its key and its founder's key."""
    message = b"chatbox-channel-id-v1\n" + founder.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def topic(channel_id: str, key: bytes | None) -> str:
    """§4: a public channel's topic names its id; a private one's derives from its key."""
    if key is None:
        return f"chatbox/v1/{channel_id}"
    return "chatbox/v1/p/" + hmac.new(key, b"chatbox-topic-v1", hashlib.sha256).hexdigest()


def seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """§6: nonce || AES-256-GCM ciphertext and tag."""
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def seal_stream(key: bytes, prefix: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """§6: "CBS1" || 7-byte prefix, then 64 KiB chunks with counter and last-chunk flag."""
    chunks = [plaintext[i : i + 65536] for i in range(0, len(plaintext), 65536)] or [b""]
    out = b"CBS1" + prefix
    for counter, chunk in enumerate(chunks):
        nonce = prefix + struct.pack(">IB", counter, 1 if counter == len(chunks) - 1 else 0)
        out += AESGCM(key).encrypt(nonce, chunk, aad)
    return out


def envelope(
    seed: bytes, channel: str, clock: int, prev: list[str], ts: int, body: dict[str, Any]
) -> bytes:
    """§5: the signed entry, as the bytes stored on IPFS."""
    unsigned = {
        "v": 1,
        "ch": channel,
        "author": public_key(seed),
        "clock": clock,
        "prev": sorted(prev),
        "ts": ts,
        "body": body,
    }
    return canonical({**unsigned, "sig": sign(seed, b"chatbox-envelope-v1\n", unsigned)})


def content_block(salt: bytes, body: dict[str, Any]) -> bytes:
    """§5.1: what a message says, apart from its envelope, salted."""
    return canonical({"v": 1, "salt": salt.hex(), "body": body})


def announcement(
    seed: bytes, fields: dict[str, Any], key: bytes | None = None, nonce: bytes = bytes(12)
) -> bytes:
    """§7: signed by the box key; sealed with the channel key in a private channel."""
    unsigned = {"v": 1, **fields, "box": public_key(seed)}
    signed = canonical({**unsigned, "sig": sign(seed, b"chatbox-announcement-v1\n", unsigned)})
    if key is None:
        return signed
    return seal(key, nonce, signed, b"chatbox-announcement\n" + fields["ch"].encode())


def invite(channel_id: str, name: str, key: bytes, founder: str) -> str:
    """§9: the tag covers version, id, name and founder; the key rides beside them."""
    fields: dict[str, Any] = {"v": 3, "id": channel_id, "name": name, "founder": founder}
    tag = hmac.new(key, b"chatbox-invite-v3\n" + canonical(fields), hashlib.sha256).digest()
    token = canonical({**fields, "tag": tag[:16].hex(), "key": key.hex()})
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def sample(newest_first: list[str]) -> list[str]:
    """§7: what a want lists: positions 0, 1, 2, 4, 8, ... back from the newest, then the
    oldest entry, at most 256."""
    chosen, position = [], 0
    while position < len(newest_first) and len(chosen) < 256:
        chosen.append(newest_first[position])
        position = 1 if position == 0 else position * 2
    if newest_first and newest_first[-1] not in chosen and len(chosen) < 256:
        chosen.append(newest_first[-1])
    return chosen


def txt_record(
    box_seed: bytes, peer: str, addresses: list[str], port: int, version: str
) -> dict[str, str]:
    """§10: the mDNS TXT keys of a box."""
    key = public_key(box_seed)
    digest = base64.b32encode(hashlib.sha256(bytes.fromhex(key)).digest()).decode()[:20]
    return {
        "key": key,
        "fp": "-".join(digest[i : i + 4] for i in range(0, 20, 4)),
        "peer": peer,
        "addrs": " ".join(addresses),
        "port": str(port),
        "v": version,
    }


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def leaf(nonce: bytes, channel_id: str, heads: list[str]) -> bytes:
    """§8: tag 0x00, the 32-byte nonce, the canonical {ch, heads}."""
    return keccak256(b"\x00" + nonce + canonical({"ch": channel_id, "heads": sorted(heads)}))


def merkle_root(leaves: list[bytes]) -> bytes:
    """§8: pairs hashed with tag 0x01; an odd last node is carried up unchanged."""
    level = list(leaves)
    while len(level) > 1:
        pairs = [keccak256(b"\x01" + level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def manifest(seed: bytes, created: int, entries: list[dict[str, Any]]) -> bytes:
    """§8: the batch manifest with open (public) entries only."""
    leaves = [leaf(bytes.fromhex(e["nonce"]), e["ch"], e["heads"]).hex() for e in entries]
    unsigned = {
        "v": 1,
        "kind": "chatbox-anchor-batch",
        "box": public_key(seed),
        "created": created,
        "leaves": leaves,
        "entries": [{"i": i, **e, "heads": sorted(e["heads"])} for i, e in enumerate(entries)],
    }
    return canonical({**unsigned, "sig": sign(seed, b"chatbox-manifest-v1\n", unsigned)})


# secp256k1, for the founding proof of section 5.2 (an Ethereum signed message): enough
# of the curve to sign with a fixed nonce and to derive an address. For vectors only; a
# real signer uses RFC 6979 nonces.
_P = 2**256 - 2**32 - 977
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_G = (
    0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)


def _add(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    if a is None or b is None:
        return a or b
    if a[0] == b[0] and (a[1] + b[1]) % _P == 0:
        return None
    if a == b:
        slope = 3 * a[0] * a[0] * pow(2 * a[1], -1, _P) % _P
    else:
        slope = (b[1] - a[1]) * pow(b[0] - a[0], -1, _P) % _P
    x = (slope * slope - a[0] - b[0]) % _P
    return x, (slope * (a[0] - x) - a[1]) % _P


def _times(k: int, point: tuple[int, int]) -> tuple[int, int]:
    result: tuple[int, int] | None = None
    addend: tuple[int, int] | None = point
    while k:
        if k & 1:
            result = _add(result, addend)
        addend = _add(addend, addend)
        k >>= 1
    assert result is not None
    return result


def eth_address(secret: int) -> str:
    """An Ethereum account's address: the last 20 bytes of keccak-256 of its public key."""
    x, y = _times(secret, _G)
    return "0x" + keccak256(x.to_bytes(32, "big") + y.to_bytes(32, "big"))[12:].hex()


def eth_sign_message(secret: int, text: str, nonce: int) -> str:
    """EIP-191 ``personal_sign``: r, s (the lower of the two) and v = 27 + R.y's parity."""
    data = text.encode()
    z = int.from_bytes(
        keccak256(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data), "big"
    )
    rx, ry = _times(nonce, _G)
    r = rx % _N
    s = pow(nonce, -1, _N) * (z + r * secret) % _N
    parity = ry & 1
    if s > _N // 2:
        s, parity = _N - s, parity ^ 1
    return (r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([27 + parity])).hex()


def card(signing_seed: bytes, sealing_secret: bytes) -> dict[str, Any]:
    """§12: a person's sealing key, bound to their signing key by their own signature."""
    unsigned = {"v": 1, "key": public_key(signing_seed), "seal": x25519_public(sealing_secret)}
    return {**unsigned, "sig": sign(signing_seed, b"chatbox-card-v1\n", unsigned)}


def x25519_public(secret: bytes) -> str:
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes_raw().hex()


def grant(
    sender_seed: bytes,
    recipient: dict[str, Any],
    key: bytes,
    members: list[str],
    ephemeral_secret: bytes,
    nonce: bytes,
) -> dict[str, Any]:
    """§12: a conversation's key and members sealed to one member's card."""
    channel = private_channel_id(key, public_key(sender_seed))
    inside = {"key": key.hex(), "members": sorted(members)}
    return sealed_grant(sender_seed, recipient, channel, inside, ephemeral_secret, nonce)


def sealed_grant(
    sender_seed: bytes,
    recipient: dict[str, Any],
    channel: str,
    inside: dict[str, Any],
    ephemeral_secret: bytes,
    nonce: bytes,
) -> dict[str, Any]:
    """§12: what a grant seals, sealed to the recipient's card and signed by its sender."""
    ephemeral = X25519PrivateKey.from_private_bytes(ephemeral_secret)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(bytes.fromhex(recipient["seal"])))
    eph = ephemeral.public_key().public_bytes_raw().hex()
    salt = bytes.fromhex(eph) + bytes.fromhex(recipient["seal"])
    secret = HKDF(hashes.SHA256(), 32, salt, b"chatbox-grant-key-v1").derive(shared)
    sender = public_key(sender_seed)
    aad = f"chatbox-grant\n{channel}\n{sender}\n{recipient['key']}".encode()
    plaintext = canonical(inside)
    unsigned = {
        "v": 1,
        "ch": channel,
        "from": sender,
        "to": recipient["key"],
        "eph": eph,
        "sealed": base64.b64encode(seal(secret, nonce, plaintext, aad)).decode(),
    }
    return {**unsigned, "sig": sign(sender_seed, b"chatbox-grant-v1\n", unsigned)}


def people_announcement(
    box_seed: bytes, name: str, peer: str, ts: int, people: list[dict[str, Any]], grants: list[Any]
) -> bytes:
    unsigned = {
        "v": 1,
        "box": public_key(box_seed),
        "name": name,
        "peer": peer,
        "ts": ts,
        "people": people,
        "grants": grants,
    }
    return canonical({**unsigned, "sig": sign(box_seed, b"chatbox-people-v1\n", unsigned)})


def vectors() -> dict[str, Any]:
    """Every vector of docs/protocol-vectors.json, built from fixed keys and nonces."""
    author_seed = bytes(range(32))
    box_seed = bytes(range(32, 64))
    name, channel = public_channel_id("  Maker   SPACE ")
    first = envelope(author_seed, channel, 1, [], 1_796_000_000_000, {"text": "héllo, wörld ✓"})
    second = envelope(
        author_seed, channel, 2, [raw_cid(first)], 1_796_000_000_500, {"text": "second"}
    )
    private_key = bytes(range(100, 132))
    private_id = private_channel_id(private_key, public_key(author_seed))
    body_nonce = bytes(range(12))
    inner = canonical({"text": "only members read this"})
    sealed_body = seal(private_key, body_nonce, inner, b"chatbox-body\n" + private_id.encode())
    private_entry = envelope(
        author_seed,
        private_id,
        1,
        [],
        1_796_000_001_000,
        {"sealed": base64.b64encode(sealed_body).decode()},
    )
    heads_fields = {
        "kind": "heads",
        "name": "makerspace",
        "peer": "12D3KooWPeerOfTheSendingBoxsKuboNode",
        "ch": channel,
        "ts": 1_796_000_000_600,
        "cids": [raw_cid(second)],
        "to": "",
        "entries": [base64.b64encode(second).decode()],
        "contents": [],
        "people": {public_key(author_seed): "Ada Łovelace"},  # a display name (section 7)
    }
    private_heads = {
        **heads_fields,
        "ch": private_id,
        "cids": [raw_cid(private_entry)],
        "entries": [base64.b64encode(private_entry).decode()],
    }
    # Section 5.1: a message whose words are in a content block, and what is said about it.
    said = content_block(bytes([7]) * 32, {"text": "Meet at 4?"})
    message = envelope(
        author_seed,
        channel,
        3,
        [raw_cid(second)],
        1_796_000_002_000,
        {"content": {"cid": raw_cid(said)}},
    )
    reply_said = content_block(bytes([8]) * 32, {"text": "Yes, in the library."})
    reply = envelope(
        box_seed,
        channel,
        4,
        [raw_cid(message)],
        1_796_000_002_100,
        {"content": {"cid": raw_cid(reply_said), "re": raw_cid(message)}},
    )
    edit_said = content_block(bytes([9]) * 32, {"text": "Meet at 5?"})
    edit = envelope(
        author_seed,
        channel,
        5,
        [raw_cid(reply)],
        1_796_000_002_200,
        {"content": {"cid": raw_cid(edit_said), "edit": raw_cid(message)}},
    )
    reaction = envelope(
        box_seed,
        channel,
        6,
        [raw_cid(edit)],
        1_796_000_002_300,
        {"react": {"to": raw_cid(message), "emoji": "👍", "on": True}},
    )
    deletion = envelope(
        author_seed,
        channel,
        7,
        [raw_cid(reaction)],
        1_796_000_002_400,
        {"delete": raw_cid(message)},
    )
    # Section 5.2: the registry's creator names the author a founder; a box key founding
    # with a proof the creator did not sign counts for nothing; the founder appoints the
    # box key, which deletes the first message; the founder bans a third key, whose post
    # beside the ban (not among its ancestors) counts for nothing.
    creator_secret, stranger_secret = 0x1111 * 2**200 + 1, 0x2222 * 2**200 + 3
    third_seed = bytes(range(64, 96))
    statement = f"chatbox-founder-v1\n{channel}\n{public_key(author_seed)}"
    founding = envelope(
        author_seed,
        channel,
        8,
        [raw_cid(deletion)],
        1_796_000_003_000,
        {"mod": {"act": "found", "proof": eth_sign_message(creator_secret, statement, 77)}},
    )
    box_statement = f"chatbox-founder-v1\n{channel}\n{public_key(box_seed)}"
    false_founding = envelope(
        box_seed,
        channel,
        9,
        [raw_cid(founding)],
        1_796_000_003_100,
        {"mod": {"act": "found", "proof": eth_sign_message(stranger_secret, box_statement, 78)}},
    )
    appoint = envelope(
        author_seed,
        channel,
        10,
        [raw_cid(false_founding)],
        1_796_000_003_200,
        {"mod": {"act": "appoint", "key": public_key(box_seed)}},
    )
    moderator_delete = envelope(
        box_seed,
        channel,
        11,
        [raw_cid(appoint)],
        1_796_000_003_300,
        {"delete": raw_cid(first)},
    )
    ban = envelope(
        author_seed,
        channel,
        12,
        [raw_cid(moderator_delete)],
        1_796_000_003_400,
        {"mod": {"act": "ban", "key": public_key(third_seed)}},
    )
    barred_post = envelope(
        third_seed,
        channel,
        12,
        [raw_cid(moderator_delete)],
        1_796_000_003_500,
        {"text": "written beside the ban"},
    )
    settings = envelope(
        author_seed,
        channel,
        13,
        sorted([raw_cid(ban), raw_cid(barred_post)]),
        1_796_000_003_600,
        {
            "mod": {
                "act": "settings",
                "topic": "Soldering on Thursdays",
                "description": "Bring safety glasses.",
                "pinned": [raw_cid(second)],
                "posting": "moderators",
            }
        },
    )
    # The founder dismisses box_seed's key; that key's unban of the third key, written on
    # parents from before (clock 13, beside the dismissal, which never saw it), counts for
    # nothing though the log's order puts it first.
    dismissal = envelope(
        author_seed,
        channel,
        14,
        [raw_cid(settings)],
        1_796_000_003_700,
        {"mod": {"act": "dismiss", "key": public_key(box_seed)}},
    )
    beside_dismissal = envelope(
        box_seed,
        channel,
        13,
        sorted([raw_cid(ban), raw_cid(barred_post)]),
        1_796_000_003_800,
        {"mod": {"act": "unban", "key": public_key(third_seed)}},
    )
    private_said = content_block(bytes([10]) * 32, {"text": "only members read this"})
    private_block = seal(
        private_key, bytes(range(20, 32)), private_said, b"chatbox-content\n" + private_id.encode()
    )
    private_reference = canonical({"content": {"cid": raw_cid(private_block)}})
    sealed_reference = seal(
        private_key,
        bytes(range(40, 52)),
        private_reference,
        b"chatbox-body\n" + private_id.encode(),
    )
    private_message = envelope(
        author_seed,
        private_id,
        2,
        [raw_cid(private_entry)],
        1_796_000_002_500,
        {"sealed": base64.b64encode(sealed_reference).decode()},
    )
    file_prefix = bytes(range(7))
    file_plain = b"a small file\n"
    leaf_nonces = [bytes([n]) * 32 for n in (1, 2, 3)]
    leaf_heads = [[raw_cid(second)], [raw_cid(first)], []]
    leaf_channels = [channel, "ef" * 32, "01" * 32]
    leaves = [leaf(n, c, h) for n, c, h in zip(leaf_nonces, leaf_channels, leaf_heads, strict=True)]
    batch = [
        {
            "ch": channel,
            "name": name,
            "visibility": "public",
            "heads": [raw_cid(second)],
            "nonce": leaf_nonces[0].hex(),
        }
    ]
    return {
        "keys": {
            "author_seed": author_seed.hex(),
            "author_public": public_key(author_seed),
            "box_seed": box_seed.hex(),
            "box_public": public_key(box_seed),
        },
        "canonical": {
            "value": {"b": [3, {"z": None, "a": True}], "a": 'é\n"✓'},
            "bytes": canonical({"b": [3, {"z": None, "a": True}], "a": 'é\n"✓'}).decode(),
        },
        "public_channel": {
            "typed": "  Maker   SPACE ",
            "name": name,
            "id": channel,
            "topic": topic(channel, None),
        },
        "envelopes": [
            {"bytes": first.decode(), "cid": raw_cid(first)},
            {"bytes": second.decode(), "cid": raw_cid(second)},
        ],
        "relations": {
            "content": {"bytes": said.decode(), "cid": raw_cid(said)},
            "message": {"bytes": message.decode(), "cid": raw_cid(message)},
            "reply_content": {"bytes": reply_said.decode(), "cid": raw_cid(reply_said)},
            "reply": {"bytes": reply.decode(), "cid": raw_cid(reply)},
            "edit_content": {"bytes": edit_said.decode(), "cid": raw_cid(edit_said)},
            "edit": {"bytes": edit.decode(), "cid": raw_cid(edit)},
            "reaction": {"bytes": reaction.decode(), "cid": raw_cid(reaction)},
            "delete": {"bytes": deletion.decode(), "cid": raw_cid(deletion)},
            # After the delete a box shows the message as deleted, without its words; the
            # edit goes with it; the reply and the reaction's envelope stay.
            "shown_after_edit": "Meet at 5?",
            "private_content_plaintext": private_said.decode(),
            "private_content_sealed": base64.b64encode(private_block).decode(),
            "private_message": {
                "bytes": private_message.decode(),
                "cid": raw_cid(private_message),
            },
        },
        "moderation": {
            "creator_address": eth_address(creator_secret),
            "stranger_address": eth_address(stranger_secret),
            "founder_statement": statement,
            "third_public": public_key(third_seed),
            **{
                name: {"bytes": raw.decode(), "cid": raw_cid(raw)}
                for name, raw in (
                    ("found", founding),
                    ("false_found", false_founding),
                    ("appoint", appoint),
                    ("moderator_delete", moderator_delete),
                    ("ban", ban),
                    ("barred_post", barred_post),
                    ("settings", settings),
                    ("dismiss", dismissal),
                    ("beside_dismissal", beside_dismissal),
                )
            },
        },
        "private_channel": {
            "id": private_id,
            "key": private_key.hex(),
            "topic": topic(private_id, private_key),
            "body_plaintext": inner.decode(),
            "body_nonce": body_nonce.hex(),
            "entry": {"bytes": private_entry.decode(), "cid": raw_cid(private_entry)},
            "invite_name": "family",
            "invite": invite(private_id, "family", private_key, public_key(author_seed)),
            # The name as its creator wrote it travels in the invite; its normal form
            # (section 4) is what the receiver compares.
            "invite_titled_name": "The Smith Family",
            "invite_titled_normal": "the smith family",
            "invite_titled": invite(
                private_id, "The Smith Family", private_key, public_key(author_seed)
            ),
        },
        "announcements": {
            "public_heads": announcement(box_seed, heads_fields).decode(),
            "private_heads_sealed": base64.b64encode(
                announcement(box_seed, private_heads, private_key, bytes(range(50, 62)))
            ).decode(),
            "private_sender_peer": heads_fields["peer"],
            # Box B (the author's key as its box key) asks box A for what it lacks ...
            "want": announcement(
                author_seed,
                {
                    **heads_fields,
                    "kind": "want",
                    "name": "library",
                    "cids": [raw_cid(first)],
                    "to": public_key(box_seed),
                    "entries": [],
                    "people": {},
                },
            ).decode(),
            # ... and A answers with the entry B's sample does not reach.
            "pack": announcement(
                box_seed,
                {
                    **heads_fields,
                    "kind": "pack",
                    "cids": [],
                    "to": public_key(author_seed),
                },
            ).decode(),
        },
        "want_sample": {
            "newest_first": [f"entry-{n}" for n in range(20, 0, -1)],
            "sample": sample([f"entry-{n}" for n in range(20, 0, -1)]),
        },
        "mdns_txt": txt_record(
            box_seed, heads_fields["peer"], ["/ip4/192.168.1.23/tcp/4001"], 80, "0.1.0"
        ),
        "sealed_file": {
            "key": private_key.hex(),
            "aad": ("chatbox-file\n" + private_id),
            "prefix": file_prefix.hex(),
            "plaintext": file_plain.decode(),
            "sealed": seal_stream(
                private_key, file_prefix, file_plain, b"chatbox-file\n" + private_id.encode()
            ).hex(),
        },
        "merkle": {
            "nonces": [n.hex() for n in leaf_nonces],
            "channels": leaf_channels,
            "heads": leaf_heads,
            "leaves": [x.hex() for x in leaves],
            "root": merkle_root(leaves).hex(),
        },
        "manifest": manifest(box_seed, 1_796_000_100, batch).decode(),
        "direct": direct_vectors(author_seed, box_seed),
    }


def direct_vectors(author_seed: bytes, box_seed: bytes) -> dict[str, Any]:
    """§12: Ada (the author) writes to Grace, a person on another box."""
    ada_sealing, grace_seed, grace_sealing = bytes([11]) * 32, bytes([12]) * 32, bytes([13]) * 32
    ada, grace = card(author_seed, ada_sealing), card(grace_seed, grace_sealing)
    key = bytes(range(140, 172))
    members = sorted([ada["key"], grace["key"]])
    to_grace = grant(author_seed, grace, key, members, bytes([14]) * 32, bytes(range(20, 32)))
    # §5.2: Ada, the private channel's founder, removed someone; its successor's key.
    private_id = private_channel_id(bytes(range(100, 132)), ada["key"])
    successor_key = bytes(range(180, 212))
    successor = {"follows": private_id, "founder": ada["key"], "key": successor_key.hex()}
    successor_id = private_channel_id(successor_key, ada["key"])
    to_grace_after = sealed_grant(
        author_seed, grace, successor_id, successor, bytes([15]) * 32, bytes(range(32, 44))
    )
    return {
        "ada_sealing_secret": ada_sealing.hex(),
        "grace_seed": grace_seed.hex(),
        "grace_sealing_secret": grace_sealing.hex(),
        "ada_card": ada,
        "grace_card": grace,
        "conversation_key": key.hex(),
        "conversation_id": private_channel_id(key, ada["key"]),
        "members": members,
        "grant_to_grace": to_grace,
        "join_act": {"act": "join", "card": grace},
        "successor_key": successor_key.hex(),
        "successor_id": successor_id,
        "successor_grant_to_grace": to_grace_after,
        "people": people_announcement(
            box_seed,
            "makerspace",
            "12D3KooWPeerOfTheSendingBoxsKuboNode",
            1_796_000_003_000,
            [{"card": ada, "handle": "ada", "name": "Ada Łovelace"}],
            [to_grace],
        ).decode(),
    }


if __name__ == "__main__":
    VECTORS.write_text(json.dumps(vectors(), indent=2, ensure_ascii=False) + "\n")
    sys.stdout.write(f"wrote {VECTORS}\n")
