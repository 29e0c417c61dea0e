"""The admin's hold on the box's accounts and public channels, through the JSON API on a
real node (Kubo, SQLite): switching an account off and on, removing it for good, and
choosing who may create public channels."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import aiohttp
import pytest
from quart.typing import TestClientProtocol as Client

from chatbox.daemon import DATABASE_FILE, Node
from tests.web.conftest import assert_error_shape, json_session

pytestmark = pytest.mark.usefixtures("no_blocking")

OWNER = {"name": "owner", "password": "owner password"}
MEMBER = {"name": "pupil", "password": "pupil password"}


async def _owner_and_member(client: Client) -> tuple[dict[str, str], Client, dict[str, str]]:
    """The owner (logged in on ``client``) and a member on a client of their own."""
    owner = {"X-CSRF-Token": await json_session(client, "/api/v1/setup", OWNER)}
    await client.put("/api/v1/admin/registration", json={"registration": "open"}, headers=owner)
    member_client = client.app.test_client()
    member = {"X-CSRF-Token": await json_session(member_client, "/api/v1/accounts", MEMBER)}
    return owner, member_client, member


async def _general(client: Client) -> str:
    channels = await (await client.get("/api/v1/channels")).get_json()
    return str(next(c["id"] for c in channels["channels"] if c["name"] == "general"))


async def test_a_switched_off_account_loses_its_session_at_once_and_cannot_log_in(
    client: Client,
) -> None:
    owner, pupil, member = await _owner_and_member(client)
    general = await _general(pupil)
    assert (await pupil.get("/api/v1/session")).status_code == 200
    listed = await (await client.get("/api/v1/admin/accounts")).get_json()
    assert [(a["name"], a["state"], a["is_admin"]) for a in listed["accounts"]] == [
        ("owner", "active", True),
        ("pupil", "active", False),
    ]

    off = await client.put(
        "/api/v1/admin/accounts/pupil", json={"state": "disabled"}, headers=owner
    )
    assert off.status_code == 200 and (await off.get_json())["state"] == "disabled"
    # The open session ends on its next request, not within the session cache's minute.
    assert (await pupil.get("/api/v1/session")).status_code == 401
    posted = await pupil.post(
        f"/api/v1/channels/{general}/messages", json={"text": "still here?"}, headers=member
    )
    assert posted.status_code == 401
    refused = await pupil.post("/api/v1/session", json=MEMBER)
    body = await refused.get_json()
    assert refused.status_code == 403 and body["code"] == "forbidden"
    assert body["error"] == "an admin of this box has switched this account off"
    # A wrong password learns nothing about the state.
    guessed = await pupil.post("/api/v1/session", json={**MEMBER, "password": "a wrong guess"})
    assert guessed.status_code == 401

    on = await client.put("/api/v1/admin/accounts/pupil", json={"state": "active"}, headers=owner)
    assert (await on.get_json())["state"] == "active"
    assert (await pupil.post("/api/v1/session", json=MEMBER)).status_code == 200


async def test_a_removed_account_is_gone_for_good_but_its_messages_keep_its_name(
    client: Client, node: Node
) -> None:
    owner, pupil, member = await _owner_and_member(client)
    general = await _general(pupil)
    await pupil.put("/api/v1/session/profile", json={"display_name": "Pat Pupil"}, headers=member)
    sent = await pupil.post(
        f"/api/v1/channels/{general}/messages", json={"text": "my last word"}, headers=member
    )
    assert sent.status_code == 201

    removed = await client.delete("/api/v1/admin/accounts/pupil", headers=owner)
    assert removed.status_code == 200 and await removed.get_json() == {"ok": True}
    assert (await pupil.get("/api/v1/session")).status_code == 401
    assert (await pupil.post("/api/v1/session", json=MEMBER)).status_code == 401
    listed = await (await client.get("/api/v1/admin/accounts")).get_json()
    assert [a["name"] for a in listed["accounts"]] == ["owner"]
    people = await (await client.get("/api/v1/people")).get_json()
    assert "pupil" not in str(people)

    # What it wrote stays, under its name, and nobody new may take that name.
    history = await (await client.get(f"/api/v1/channels/{general}/messages")).get_json()
    last = history["messages"][-1]
    assert last["text"] == "my last word" and last["author_name"] == "Pat Pupil"
    taken = await client.app.test_client().post("/api/v1/accounts", json=MEMBER)
    assert taken.status_code == 409
    # Its keys, sessions and memberships are erased from the box's database.
    database = sqlite3.connect(node.settings.data_dir / DATABASE_FILE)
    try:
        keys, removed_at = database.execute(
            "SELECT locked_keys, removed_at FROM accounts WHERE name = 'pupil'"
        ).fetchone()
        left = [
            database.execute(f"SELECT count(*) FROM {table} WHERE account_id = 2").fetchone()[0]
            for table in ("sessions", "memberships")
        ]
    finally:
        database.close()
    assert keys == b"" and removed_at and left == [0, 0]
    reset = await client.post("/api/v1/admin/reset-codes", json={"name": "pupil"}, headers=owner)
    assert reset.status_code == 404
    again = await client.delete("/api/v1/admin/accounts/pupil", headers=owner)
    assert again.status_code == 404


async def test_a_switched_off_persons_open_event_stream_is_closed(
    client: Client, served: str
) -> None:
    owner, _, _ = await _owner_and_member(client)
    # unsafe=True: keep cookies of a bare IP address such as 127.0.0.1.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        assert (await http.post(served + "/api/v1/session", json=MEMBER)).status == 200
        async with http.get(served + "/api/v1/events") as stream:
            await stream.content.readuntil(b"\n\n")  # the opening comment: it is open
            switched = await client.put(
                "/api/v1/admin/accounts/pupil", json={"state": "disabled"}, headers=owner
            )
            assert switched.status_code == 200
            # The box ends the stream; one left open would block here until the timeout.
            rest = await asyncio.wait_for(stream.content.read(), 10)
        assert b"data:" not in rest
        assert (await http.get(served + "/api/v1/events")).status == 401


async def test_only_admins_may_create_public_channels_when_the_admin_says_so(
    client: Client,
) -> None:
    owner, pupil, member = await _owner_and_member(client)
    public = {"name": "Year 7 Science", "visibility": "public"}
    assert (await pupil.post("/api/v1/channels", json=public, headers=member)).status_code == 201
    assert (await (await client.get("/api/v1/admin/public-channels")).get_json()) == {
        "public_channels": "everyone"
    }

    chosen = await client.put(
        "/api/v1/admin/public-channels", json={"public_channels": "admins"}, headers=owner
    )
    assert await chosen.get_json() == {"public_channels": "admins"}
    refused = await pupil.post(
        "/api/v1/channels", json={"name": "Year 8 Art", "visibility": "public"}, headers=member
    )
    body = await refused.get_json()
    assert refused.status_code == 403
    assert body["error"] == "on this box only an admin may create public channels"
    private = {"name": "Homework club", "visibility": "private"}
    assert (await pupil.post("/api/v1/channels", json=private, headers=member)).status_code == 201
    art = {"name": "Year 8 Art", "visibility": "public"}
    assert (await client.post("/api/v1/channels", json=art, headers=owner)).status_code == 201
    page = await (await pupil.get("/chat")).get_data(as_text=True)
    assert 'value="public"' not in page and "public channels are made by its admins" in page


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("PUT", "/api/v1/admin/accounts/owner", {"state": "disabled"}, 409),  # oneself
        ("DELETE", "/api/v1/admin/accounts/owner", None, 409),
        ("PUT", "/api/v1/admin/accounts/nobody", {"state": "disabled"}, 404),
        ("DELETE", "/api/v1/admin/accounts/nobody", None, 404),
        ("PUT", "/api/v1/admin/accounts/pupil", {"state": "removed"}, 400),
        ("PUT", "/api/v1/admin/accounts/pupil", {"state": 0}, 400),
        ("PUT", "/api/v1/admin/accounts/pupil", {"state": "active", "extra": 1}, 400),
        ("PUT", "/api/v1/admin/accounts/pupil", b"\xff\xfe not json", 400),
        ("PUT", "/api/v1/admin/public-channels", {"public_channels": "nobody"}, 400),
        ("PUT", "/api/v1/admin/public-channels", {}, 400),
    ],
)
async def test_admin_requests_that_cannot_be_done_are_refused_with_a_reason(
    client: Client, method: str, path: str, body: Any, status: int
) -> None:
    owner, _, _ = await _owner_and_member(client)
    if isinstance(body, bytes):
        answer = await client.open(
            path,
            method=method,
            data=body,
            headers={**owner, "Content-Type": "application/json"},
        )
    else:
        answer = await client.open(path, method=method, json=body, headers=owner)
    assert answer.status_code == status, await answer.get_data(as_text=True)
    assert_error_shape(await answer.get_json())
    accounts = await (await client.get("/api/v1/admin/accounts")).get_json()
    assert all(a["state"] == "active" for a in accounts["accounts"])  # nothing changed


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/admin/accounts", None),
        ("PUT", "/api/v1/admin/accounts/owner", {"state": "disabled"}),
        ("DELETE", "/api/v1/admin/accounts/owner", None),
        ("PUT", "/api/v1/admin/public-channels", {"public_channels": "everyone"}),
    ],
)
async def test_members_and_forged_requests_cannot_act_as_admins(
    client: Client, method: str, path: str, body: Any
) -> None:
    _, pupil, member = await _owner_and_member(client)
    as_member = await pupil.open(path, method=method, json=body, headers=member)
    assert as_member.status_code == 403
    assert_error_shape(await as_member.get_json())
    if method != "GET":  # the owner's session without its CSRF token: another site's form
        forged = await client.open(path, method=method, json=body)
        assert forged.status_code == 403
    assert (await client.get("/api/v1/session")).status_code == 200  # the owner still is
