"""Replies, reactions, edits and deletes through the JSON API, on a real node (Kubo,
SQLite): what each person sees, what the disk and IPFS keep after a delete, and the one
refusal shape for what may not be done."""

from __future__ import annotations

import sqlite3

import pytest
from quart.typing import TestClientProtocol as Client

from chatbox.adapters.ipfs import IpfsClient
from chatbox.daemon import DATABASE_FILE, Node
from tests.web.conftest import assert_error_shape, json_session, png
from tests.web.test_api import _multipart

pytestmark = pytest.mark.usefixtures("no_blocking")

OWNER = {"name": "owner", "password": "owner password"}
PUPIL = {"name": "pupil", "password": "pupil password"}


async def _two(client: Client) -> tuple[dict[str, str], Client, dict[str, str], str]:
    owner = {"X-CSRF-Token": await json_session(client, "/api/v1/setup", OWNER)}
    await client.put("/api/v1/admin/registration", json={"registration": "open"}, headers=owner)
    pupil = client.app.test_client()
    member = {"X-CSRF-Token": await json_session(pupil, "/api/v1/accounts", PUPIL)}
    general = (await (await client.get("/api/v1/channels")).get_json())["channels"][0]["id"]
    return owner, pupil, member, general


async def _post(client: Client, headers: dict[str, str], channel: str, **body: str) -> dict:  # type: ignore[type-arg]
    posted = await client.post(f"/api/v1/channels/{channel}/messages", json=body, headers=headers)
    assert posted.status_code == 201, await posted.get_data(as_text=True)
    return dict(await posted.get_json())


async def _page(client: Client, channel: str) -> list[dict]:  # type: ignore[type-arg]
    page = await client.get(f"/api/v1/channels/{channel}/messages")
    assert page.status_code == 200
    return list((await page.get_json())["messages"])


async def test_a_thread_reactions_and_an_edit_show_to_everyone(client: Client) -> None:
    owner, pupil, member, general = await _two(client)
    question = await _post(client, owner, general, text="Trip on Friday: who comes?")
    reply = await _post(pupil, member, general, text="Me!", reply_to=question["cid"])
    assert reply["reply_to"] == question["cid"]
    # A reply to the reply joins the same thread.
    again = await _post(client, owner, general, text="Great", reply_to=reply["cid"])
    assert again["reply_to"] == question["cid"]
    for who, headers, emoji in [
        (client, owner, "👍"),
        (pupil, member, "👍"),
        (pupil, member, "🎉"),
    ]:
        reacted = await who.put(
            f"/api/v1/messages/{question['cid']}/reaction", json={"emoji": emoji}, headers=headers
        )
        assert reacted.status_code == 200, await reacted.get_data(as_text=True)
    taken_back = await pupil.put(
        f"/api/v1/messages/{question['cid']}/reaction",
        json={"emoji": "🎉", "on": False},
        headers=member,
    )
    assert taken_back.status_code == 200
    edited = await client.put(
        f"/api/v1/messages/{question['cid']}",
        json={"text": "Trip on Saturday: who comes?"},
        headers=owner,
    )
    assert edited.status_code == 200
    # The channel shows one line for the question, with its thread, reactions and edit.
    shown = await _page(pupil, general)
    assert [m["text"] for m in shown] == ["Trip on Saturday: who comes?"]
    line = shown[0]
    assert line["replies"] == 2 and line["edited_ts"] is not None
    assert [(r["emoji"], r["count"], r["people"]) for r in line["reactions"]] == [
        ("👍", 2, ["owner", "pupil"])
    ]
    thread = await (await pupil.get(f"/api/v1/messages/{question['cid']}/thread")).get_json()
    assert [m["text"] for m in thread["messages"]] == [
        "Trip on Saturday: who comes?",
        "Me!",
        "Great",
    ]
    versions = await (await pupil.get(f"/api/v1/messages/{question['cid']}/versions")).get_json()
    assert [v["text"] for v in versions["versions"]] == [
        "Trip on Friday: who comes?",
        "Trip on Saturday: who comes?",
    ]


async def test_what_may_not_be_done_is_refused_in_one_shape(client: Client) -> None:
    owner, pupil, member, general = await _two(client)
    mine = await _post(client, owner, general, text="owner's words")
    unknown = "bafkreiewytqfzs5amne2pv26tjfj4ckme2ym6owcukfyg35e6uxekowoqe"
    refusals = [
        (pupil.put(f"/api/v1/messages/{mine['cid']}", json={"text": "x"}, headers=member), 403),
        (pupil.delete(f"/api/v1/messages/{mine['cid']}", headers=member), 403),
        (
            pupil.put(f"/api/v1/messages/{unknown}/reaction", json={"emoji": "👍"}, headers=member),
            404,
        ),
        (
            pupil.put(
                f"/api/v1/messages/{mine['cid']}/reaction",
                json={"emoji": "two words"},
                headers=member,
            ),
            400,
        ),
        (
            pupil.put(
                f"/api/v1/messages/{mine['cid']}/reaction", json={"emoji": 5}, headers=member
            ),
            400,
        ),
        (pupil.get("/api/v1/messages/not-a-cid/thread"), 404),
        (
            client.post(
                f"/api/v1/channels/{general}/messages",
                json={"text": "x", "reply_to": unknown},
                headers=owner,
            ),
            404,
        ),
        (client.put(f"/api/v1/messages/{mine['cid']}", json={"text": "x"}), 403),  # no CSRF token
    ]
    for request, status in refusals:
        answer = await request
        assert answer.status_code == status, await answer.get_data(as_text=True)
        assert_error_shape(await answer.get_json())
    deleted = await client.delete(f"/api/v1/messages/{mine['cid']}", headers=owner)
    assert deleted.status_code == 200
    for again in (
        client.delete(f"/api/v1/messages/{mine['cid']}", headers=owner),
        client.put(f"/api/v1/messages/{mine['cid']}", json={"text": "back"}, headers=owner),
        pupil.put(f"/api/v1/messages/{mine['cid']}/reaction", json={"emoji": "👍"}, headers=member),
    ):
        answer = await again
        assert answer.status_code == 409, await answer.get_data(as_text=True)
        assert_error_shape(await answer.get_json())


async def test_a_delete_leaves_nothing_of_the_message_on_the_disk_in_search_or_on_ipfs(
    client: Client, node: Node, ipfs: IpfsClient
) -> None:
    owner, pupil, _, general = await _two(client)
    keep = await _post(client, owner, general, text="the bake sale is on")
    secret = await _post(client, owner, general, text="my locker code is nightjar zebrafish")
    edited = await client.put(
        f"/api/v1/messages/{secret['cid']}",
        json={"text": "my locker code is kittiwake zebrafish"},
        headers=owner,
    )
    assert edited.status_code == 200
    body, content_type = _multipart("map.png", png(3, 2))
    upload = await client.post(
        f"/api/v1/channels/{general}/files",
        data=body,
        headers={**owner, "Content-Type": content_type},
    )
    assert upload.status_code == 201, await upload.get_data(as_text=True)
    picture = await upload.get_json()
    await node.services.outbox.drained()
    content_cids = _content_cids(node)
    assert len(content_cids) == 4 and await ipfs.pinned_among(content_cids) == set(content_cids)
    assert await ipfs.pinned_among([picture["file"]["cid"]]) == {picture["file"]["cid"]}
    found = await (await pupil.get("/api/v1/search", query_string={"q": "zebrafish"})).get_json()
    assert len(found["results"]) == 1

    for cid in (secret["cid"], picture["cid"]):
        answer = await client.delete(f"/api/v1/messages/{cid}", headers=owner)
        assert answer.status_code == 200
    await node.services.outbox.drained()
    await node.services.outbox.flush()
    shown = await _page(pupil, general)
    assert [(m["text"], m["deleted"]) for m in shown] == [
        ("the bake sale is on", False),
        (None, True),
        (None, True),
    ]
    assert shown[2]["file"] is None
    found = await (await pupil.get("/api/v1/search", query_string={"q": "zebrafish"})).get_json()
    assert found["results"] == []
    database = node.settings.data_dir / DATABASE_FILE
    wal = database.with_name(database.name + "-wal")
    raw = database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    # Words no hex or base32 text holds by chance: a signature or CID could hold "0123".
    for word in (b"zebrafish", b"nightjar", b"kittiwake", b"map.png"):
        assert word not in raw, (word, word in database.read_bytes())
    left = set(_content_cids(node))
    gone = set(content_cids) - left
    assert len(gone) == 3  # the message, its edit and the picture's
    assert await ipfs.pinned_among([*content_cids, picture["file"]["cid"]]) == left
    assert left == set(_content_cids(node, keep["cid"]))
    # The envelopes stay, so the log is whole: the kept message still reads.
    assert (await _page(client, general))[0]["text"] == "the bake sale is on"
    versions = await (await pupil.get(f"/api/v1/messages/{secret['cid']}/versions")).get_json()
    assert all(v["text"] is None for v in versions["versions"])


def _content_cids(node: Node, cid: str | None = None) -> list[str]:
    with sqlite3.connect(node.settings.data_dir / DATABASE_FILE) as db:
        rows = db.execute(
            "SELECT content_cid FROM entries WHERE content IS NOT NULL"
            + (" AND cid = ?" if cid else ""),
            (cid,) if cid else (),
        ).fetchall()
    return [row[0] for row in rows]
