"""The JSON API through the Quart test client, on a real node (Kubo, SQLite)."""

from __future__ import annotations

import asyncio
import gzip
import json
import re

import aiohttp
import pytest
from quart import Response
from quart.typing import TestClientProtocol as Client

from chatbox.adapters.ipfs import IpfsClient
from chatbox.daemon import Node
from chatbox.devstack import IpfsDaemon
from tests.conftest import unpinned
from tests.web.conftest import assert_error_shape, json_session

# The node's own code must not block the event loop while it serves (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("no_blocking")

OWNER = {"name": "owner", "password": "owner password"}
GUEST = {"name": "guest", "password": "guest password"}
PRIVATE_ROUTES = [
    ("GET", "/api/v1/session"),
    ("DELETE", "/api/v1/session"),
    ("GET", "/api/v1/channels"),
    ("POST", "/api/v1/channels"),
    ("GET", "/api/v1/channels/public"),
    ("POST", "/api/v1/channels/{id}/join"),
    ("POST", "/api/v1/invites/accept"),
    ("GET", "/api/v1/channels/{id}/invite"),
    ("GET", "/api/v1/channels/{id}/messages"),
    ("POST", "/api/v1/channels/{id}/messages"),
    ("POST", "/api/v1/channels/{id}/read"),
    ("POST", "/api/v1/channels/{id}/files"),
    ("GET", "/api/v1/files/{cid}"),
    ("GET", "/api/v1/channels/{id}/events"),
    ("GET", "/api/v1/messages/{cid}/proof"),
    ("GET", "/api/v1/peers"),
    ("POST", "/api/v1/peers"),
    ("DELETE", "/api/v1/peers/{peer}"),
    ("GET", "/api/v1/admin/registration"),
    ("PUT", "/api/v1/admin/registration"),
    ("POST", "/api/v1/admin/signup-codes"),
]


async def _owner_with_channel(client: Client, visibility: str = "public") -> tuple[str, str]:
    csrf = await json_session(client, "/api/v1/setup", OWNER)
    response = await client.post(
        "/api/v1/channels",
        json={"name": "plans", "visibility": visibility},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 201
    return csrf, (await response.get_json())["id"]


async def test_setup_once_then_login_sets_a_strict_httponly_cookie(
    client: Client,
) -> None:
    response = await client.post("/api/v1/setup", json=OWNER)
    assert response.status_code == 201
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    stranger = client.app.test_client()
    again = await stranger.post("/api/v1/setup", json={"name": "mallory", "password": "x" * 12})
    assert again.status_code == 409
    assert (await again.get_json())["error"] == "this box is already set up; log in instead"
    login = await stranger.post("/api/v1/session", json=OWNER)
    assert login.status_code == 200 and (await login.get_json())["is_admin"] is True


async def test_every_private_route_answers_401_when_logged_out(client: Client) -> None:
    _, channel_id = await _owner_with_channel(client)
    fresh = client.app.test_client()
    for method, route in PRIVATE_ROUTES:
        path = route.format(id=channel_id, cid="b" + "a" * 58, peer="12D3KooWPeer")
        body = {"json": {}} if method in ("POST", "PUT") and "files" not in path else {}
        response = await fresh.open(path, method=method, **body)
        assert response.status_code == 401, (method, path, response.status_code)
        assert_error_shape(await response.get_json())


async def test_cross_site_changes_are_refused_and_same_site_ones_pass(
    client: Client,
) -> None:
    csrf, channel_id = await _owner_with_channel(client)
    path = f"/api/v1/channels/{channel_id}/messages"
    refused = [
        {},  # no CSRF token at all
        {"X-CSRF-Token": "0" * 64},
        {"X-CSRF-Token": csrf, "Origin": "http://evil.example"},
        {"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"},
    ]
    for headers in refused:
        response = await client.post(path, json={"text": "forged"}, headers=headers)
        assert response.status_code == 403, headers
    # A form post from another site cannot send JSON: refused before any handler runs.
    form = await client.post(path, form={"text": "forged"}, headers={"X-CSRF-Token": csrf})
    assert form.status_code in (400, 415)
    accepted = await client.post(path, json={"text": "real"}, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201
    history = await (await client.get(path)).get_json()
    assert [m["text"] for m in history["messages"]] == ["real"]


async def test_bad_input_gets_a_clear_json_error_and_changes_nothing(
    client: Client,
) -> None:
    csrf, channel_id = await _owner_with_channel(client)
    headers = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
    path = f"/api/v1/channels/{channel_id}/messages"
    cases = [
        (await client.post(path, data=b"{not json", headers=headers), 400),
        (await client.post(path, json={"text": ""}, headers={"X-CSRF-Token": csrf}), 400),
        (await client.post(path, json={"txt": "x"}, headers={"X-CSRF-Token": csrf}), 400),
        (
            await client.post(
                "/api/v1/channels/" + "ab" * 32 + "/messages",
                json={"text": "x"},
                headers={"X-CSRF-Token": csrf},
            ),
            404,
        ),
        (await client.get(path + "?limit=100000"), 400),
        (await client.get(path + "?before=nonsense"), 404),
        (await client.get("/api/v1/files/not-a-cid"), 404),
        (
            await client.post(
                "/api/v1/invites/accept", json={"token": "garbage"}, headers={"X-CSRF-Token": csrf}
            ),
            400,
        ),
    ]
    for response, status in cases:
        assert response.status_code == status, await response.get_data(as_text=True)
        assert_error_shape(await response.get_json())
    history = await (await client.get(path)).get_json()
    assert history["messages"] == []


async def test_an_attacker_is_slowed_but_the_owner_on_another_device_gets_in(
    client: Client,
) -> None:
    await _owner_with_channel(client)
    attacker, owner = client.app.test_client(), client.app.test_client()
    wrong = {**OWNER, "password": "wrong guess"}
    statuses = [(await _login_from(attacker, wrong, "10.0.0.66")).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]  # three free guesses, then a wait
    refused = await _login_from(attacker, wrong, "10.0.0.66")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    assert (await refused.get_json())["code"] == "rate_limited"
    # The right password from the attacker's address waits too ...
    assert (await _login_from(attacker, OWNER, "10.0.0.66")).status_code == 429
    # ... but not from the owner's own device.
    assert (await _login_from(owner, OWNER, "10.0.0.7")).status_code == 200


async def test_a_refused_login_and_a_logged_out_request_answer_the_same_status(
    client: Client,
) -> None:
    await _owner_with_channel(client)
    fresh = client.app.test_client()
    refused = await fresh.post("/api/v1/session", json={**OWNER, "password": "wrong guess"})
    logged_out = await fresh.get("/api/v1/channels")
    assert refused.status_code == logged_out.status_code == 401
    assert (await refused.get_json())["code"] == (await logged_out.get_json())["code"]


async def _login_from(client: Client, credentials: dict[str, str], address: str) -> Response:
    return await client.post(
        "/api/v1/session", json=credentials, scope_base={"client": (address, 40000)}
    )


async def test_registration_policy_and_signup_codes(client: Client) -> None:
    csrf, _ = await _owner_with_channel(client)
    guest = client.app.test_client()
    refused = await guest.post("/api/v1/accounts", json=GUEST)
    assert refused.status_code == 403  # the default policy needs a code
    code = (
        await (
            await client.post("/api/v1/admin/signup-codes", headers={"X-CSRF-Token": csrf})
        ).get_json()
    )["code"]
    assert (await guest.post("/api/v1/accounts", json={**GUEST, "code": code})).status_code == 201
    reused = await client.app.test_client().post(
        "/api/v1/accounts", json={"name": "third", "password": "third password", "code": code}
    )
    assert reused.status_code == 403
    closed = await client.put(
        "/api/v1/admin/registration",
        json={"registration": "closed"},
        headers={"X-CSRF-Token": csrf},
    )
    assert (await closed.get_json()) == {"registration": "closed"}


async def test_oversized_upload_is_refused_without_storing_it(client: Client, node: Node) -> None:
    csrf, channel_id = await _owner_with_channel(client)
    limit = node.settings.upload_limit
    before = await node.services.status.status()
    body, content_type = _multipart("big.bin", b"\0" * (limit + 1))
    response = await client.post(
        f"/api/v1/channels/{channel_id}/files",
        data=body,
        headers={"Content-Type": content_type, "X-CSRF-Token": csrf},
    )
    assert response.status_code == 413
    assert_error_shape(await response.get_json())
    history = await (await client.get(f"/api/v1/channels/{channel_id}/messages")).get_json()
    assert history["messages"] == []
    after = await node.services.status.status()
    assert after["ipfs"]["repo_size"] - before["ipfs"]["repo_size"] < limit // 2


async def test_private_file_downloads_unsealed_for_members_only(
    client: Client, node: Node, ipfs: IpfsClient
) -> None:
    csrf, channel_id = await _owner_with_channel(client, "private")
    content = b"family recipe: " + bytes(range(256)) * 100
    body, content_type = _multipart("recipe.txt", content)
    response = await client.post(
        f"/api/v1/channels/{channel_id}/files",
        data=body,
        headers={"Content-Type": content_type, "X-CSRF-Token": csrf},
    )
    assert response.status_code == 201, await response.get_data(as_text=True)
    file = (await response.get_json())["file"]
    assert file["name"] == "recipe.txt" and file["size"] == len(content)
    download = await client.get(f"/api/v1/files/{file['cid']}")
    assert download.status_code == 200
    assert await download.get_data() == content
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    await node.services.outbox.drained()
    assert await unpinned(ipfs, [file["cid"]]) == []
    # Someone else on the box does not learn the file exists.
    outsider = client.app.test_client()
    code = (
        await (
            await client.post("/api/v1/admin/signup-codes", headers={"X-CSRF-Token": csrf})
        ).get_json()
    )["code"]
    await json_session(outsider, "/api/v1/accounts", {**GUEST, "code": code})
    assert (await outsider.get(f"/api/v1/files/{file['cid']}")).status_code == 404
    assert (await outsider.get(f"/api/v1/channels/{channel_id}/messages")).status_code == 404


async def test_live_stream_delivers_a_new_message(served: str) -> None:
    # unsafe=True: keep cookies of a bare IP address such as 127.0.0.1.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        reply = await http.post(served + "/api/v1/setup", json=OWNER)
        csrf = (await reply.json())["csrf_token"]
        headers = {"X-CSRF-Token": csrf}
        created = await http.post(
            served + "/api/v1/channels",
            json={"name": "live", "visibility": "public"},
            headers=headers,
        )
        channel_id = (await created.json())["id"]
        async with http.get(served + f"/api/v1/channels/{channel_id}/events") as stream:
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            await stream.content.readuntil(b"\n\n")  # the opening comment
            await http.post(
                served + f"/api/v1/channels/{channel_id}/messages",
                json={"text": "ping"},
                headers=headers,
            )
            event = await asyncio.wait_for(_next_event(stream), 10)
    assert event["text"] == "ping" and event["author_name"] == "owner"


async def test_openapi_document_lists_every_route_of_the_design(client: Client) -> None:
    document = await (await client.get("/api/v1/openapi.json")).get_json()
    paths = document["paths"]
    for method, route in [
        *PRIVATE_ROUTES,
        ("POST", "/api/v1/setup"),
        ("POST", "/api/v1/session"),
        ("POST", "/api/v1/admin/reset"),
        ("GET", "/api/v1/status"),
    ]:
        template = route.replace("{id}", "{channel_id}").replace("{cid}", "{file_cid}")
        template = template.replace("messages/{file_cid}", "messages/{message_cid}")
        template = template.replace("{peer}", "{peer_id}")
        assert method.lower() in paths[template], (method, template)
    upload = paths["/api/v1/channels/{channel_id}/files"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload


async def _next_event(stream: aiohttp.ClientResponse) -> dict[str, object]:
    while True:
        block = (await stream.content.readuntil(b"\n\n")).decode()
        if "event: message" in block:
            data = next(line for line in block.splitlines() if line.startswith("data: "))
            return dict(json.loads(data.removeprefix("data: ")))


def _multipart(name: str, content: bytes) -> tuple[bytes, str]:
    boundary = "chatboxtestboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return (
        head + content + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


async def test_an_admin_adds_and_removes_a_box_by_multiaddr(
    client: Client, second_ipfs_daemon: IpfsDaemon
) -> None:
    csrf, _ = await _owner_with_channel(client)
    headers = {"X-CSRF-Token": csrf}
    async with aiohttp.ClientSession() as session:
        other = await IpfsClient(session, second_ipfs_daemon.api_url).identity()
    for bad in ("", "hello", "/ip4/127.0.0.1/tcp/4001", "/ip4/1.2.3.4/tcp/1/p2p/" + "x" * 400):
        refused = await client.post("/api/v1/peers", json={"multiaddr": bad}, headers=headers)
        assert refused.status_code == 400, bad
        assert_error_shape(await refused.get_json())

    added = await client.post(
        "/api/v1/peers", json={"multiaddr": other.addresses[0]}, headers=headers
    )
    assert added.status_code == 201
    assert await added.get_json() == {"peer_id": other.peer_id, "connected": True}

    async def listed() -> dict[str, object]:
        boxes = (await (await client.get("/api/v1/peers")).get_json())["boxes"]
        return {box["peer_id"]: box for box in boxes}.get(other.peer_id) or {}

    for _ in range(100):  # the watcher notices the connection within its interval
        if (await listed()).get("availability") == "online":
            break
        await asyncio.sleep(0.1)
    box = await listed()
    assert box["availability"] == "online" and box["source"] == "manual"
    assert box["addresses"] == [other.addresses[0]]

    code = (await (await client.post("/api/v1/admin/signup-codes", headers=headers)).get_json())[
        "code"
    ]
    guest = client.app.test_client()
    guest_csrf = await json_session(guest, "/api/v1/accounts", {**GUEST, "code": code})
    for method, path in (("POST", "/api/v1/peers"), ("DELETE", f"/api/v1/peers/{other.peer_id}")):
        forbidden = await guest.open(
            path,
            method=method,
            json={"multiaddr": other.addresses[0]},
            headers={"X-CSRF-Token": guest_csrf},
        )
        assert forbidden.status_code == 403, (method, forbidden.status_code)

    removed = await client.delete(f"/api/v1/peers/{other.peer_id}", headers=headers)
    assert removed.status_code == 200
    assert await listed() == {}
    again = await client.delete(f"/api/v1/peers/{other.peer_id}", headers=headers)
    assert again.status_code == 404


async def test_the_directory_tells_the_real_state_of_the_registry_and_of_discovery(
    client: Client,
) -> None:
    await _owner_with_channel(client)
    directory = await (await client.get("/api/v1/channels/public")).get_json()
    # #general, made at set-up, and the one the owner made.
    listed = [(c["name"], c["joined"], c["source"]) for c in directory["channels"]]
    assert listed == [("general", True, "box"), ("plans", True, "box")]
    # The test node anchors on no chain and does not advertise on the LAN.
    assert directory["chain"] == "off (this box uses no chain registry)"
    assert directory["discovery"] == "This box is not advertised on the LAN (mDNS off)."
    page = await (await client.get("/directory")).get_data(as_text=True)
    assert "This box uses no chain registry." in page
    assert "not connected" not in page and "not running" not in page


async def test_anchor_now_is_for_admins_and_says_when_there_is_no_chain(client: Client) -> None:
    csrf, _ = await _owner_with_channel(client)
    headers = {"X-CSRF-Token": csrf}
    no_chain = await client.post("/api/v1/admin/anchor", headers=headers)
    assert no_chain.status_code == 409
    assert (await no_chain.get_json())["code"] == "conflict"
    code = (await (await client.post("/api/v1/admin/signup-codes", headers=headers)).get_json())[
        "code"
    ]
    guest = client.app.test_client()
    guest_csrf = await json_session(guest, "/api/v1/accounts", {**GUEST, "code": code})
    refused = await guest.post("/api/v1/admin/anchor", headers={"X-CSRF-Token": guest_csrf})
    assert refused.status_code == 403
    assert_error_shape(await refused.get_json())


async def test_pages_json_and_static_files_are_gzipped(client: Client) -> None:
    # Live streams must stay unbuffered: the browser tests' live messages would stall.
    for path in ("/static/app.js", "/static/style.css", "/api/v1/openapi.json", "/setup"):
        response = await client.get(path, headers={"Accept-Encoding": "gzip, br"})
        body = await response.get_data()
        assert response.headers["Content-Encoding"] == "gzip", path
        assert "Accept-Encoding" in response.headers["Vary"]
        assert len(gzip.decompress(body)) > 1.5 * len(body), path
        plain = await client.get(path)
        assert "Content-Encoding" not in plain.headers
        assert gzip.decompress(body) == await plain.get_data()


async def test_set_up_makes_general_and_every_new_member_starts_in_it(client: Client) -> None:
    csrf = await json_session(client, "/api/v1/setup", OWNER)
    opened = await client.put(
        "/api/v1/admin/registration", json={"registration": "open"}, headers={"X-CSRF-Token": csrf}
    )
    assert opened.status_code == 200
    owners = await (await client.get("/api/v1/channels")).get_json()
    assert [(c["name"], c["visibility"]) for c in owners["channels"]] == [("general", "public")]
    await client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    await json_session(client, "/api/v1/accounts", {"name": "newcomer", "password": "new pw 123"})
    mine = await (await client.get("/api/v1/channels")).get_json()
    assert [c["id"] for c in mine["channels"]] == [owners["channels"][0]["id"]]


async def test_an_admin_gives_a_member_a_reset_code_that_works_once_and_for_them_only(
    client: Client,
) -> None:
    owner_csrf = await json_session(client, "/api/v1/setup", OWNER)
    headers = {"X-CSRF-Token": owner_csrf}
    await client.put("/api/v1/admin/registration", json={"registration": "open"}, headers=headers)
    await client.delete("/api/v1/session", headers=headers)
    guest_csrf = await json_session(client, "/api/v1/accounts", GUEST)
    # A member may not make codes.
    refused = await client.post(
        "/api/v1/admin/reset-codes", json={"name": "guest"}, headers={"X-CSRF-Token": guest_csrf}
    )
    assert refused.status_code == 403
    assert_error_shape(await refused.get_json())
    await client.delete("/api/v1/session", headers={"X-CSRF-Token": guest_csrf})

    headers = {"X-CSRF-Token": await json_session(client, "/api/v1/session", OWNER)}
    unknown = await client.post(
        "/api/v1/admin/reset-codes", json={"name": "nobody"}, headers=headers
    )
    assert unknown.status_code == 404
    made = await client.post("/api/v1/admin/reset-codes", json={"name": "guest"}, headers=headers)
    assert made.status_code == 201
    code = (await made.get_json())["code"]
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}", code)  # no 0/O, no 1/I
    await client.delete("/api/v1/session", headers=headers)

    # Not for another account, the owner's included.
    stolen = await client.post(
        "/api/v1/admin/reset",
        json={"name": "owner", "code": code, "password": "taken over 1"},
    )
    assert stolen.status_code == 401
    assert_error_shape(await stolen.get_json())
    # For the guest, typed in lower case and without its dash, it works once.
    reset = {"name": "guest", "code": code.lower().replace("-", ""), "password": "new guest pw"}
    used = await client.post("/api/v1/admin/reset", json=reset)
    assert used.status_code == 200  # and logged in
    logged_in = {"X-CSRF-Token": (await used.get_json())["csrf_token"]}
    await client.delete("/api/v1/session", headers=logged_in)
    assert (await client.post("/api/v1/admin/reset", json=reset)).status_code == 401
    old = await client.post("/api/v1/session", json=GUEST)
    assert old.status_code == 401
    new = await client.post("/api/v1/session", json={"name": "guest", "password": "new guest pw"})
    assert new.status_code == 200


async def test_a_display_name_in_any_script_is_shown_while_the_login_name_stays(
    client: Client,
) -> None:
    set_up = await client.post("/api/v1/setup", json={**OWNER, "display_name": " Ms   Smith "})
    assert set_up.status_code == 201
    session_body = await set_up.get_json()
    assert (session_body["name"], session_body["display_name"]) == ("owner", "Ms Smith")
    headers = {"X-CSRF-Token": session_body["csrf_token"]}
    general = (await (await client.get("/api/v1/channels")).get_json())["channels"][0]["id"]
    path = f"/api/v1/channels/{general}/messages"
    posted = await (await client.post(path, json={"text": "hi"}, headers=headers)).get_json()
    assert (posted["author_name"], posted["author_handle"]) == ("Ms Smith", "owner")

    renamed = await client.put(
        "/api/v1/session/profile", json={"display_name": "  山田   花子 "}, headers=headers
    )
    assert renamed.status_code == 200
    assert (await renamed.get_json())["display_name"] == "山田 花子"
    assert (await (await client.get("/api/v1/session")).get_json())["display_name"] == "山田 花子"
    history = await (await client.get(path)).get_json()
    assert history["messages"][-1]["author_name"] == "山田 花子"  # old messages too
    people = (await (await client.get("/api/v1/peers")).get_json())["people"]
    assert [(p["name"], p["handle"]) for p in people] == [("山田 花子", "owner")]

    bad_bodies = [
        {"display_name": 5},
        {"display_name": "x" * 65},
        {"display_name": "admin\u202egnp.exe"},  # a right-to-left override: a look-alike
        {"display_name": "tab\there\x00"},
        {},
        {"display_name": "ok", "is_admin": True},
    ]
    for body in bad_bodies:
        refused = await client.put("/api/v1/session/profile", json=body, headers=headers)
        assert refused.status_code == 400, body
        assert_error_shape(await refused.get_json())
    not_utf8 = await client.put(
        "/api/v1/session/profile",
        data=b'{"display_name": "\xff"}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert not_utf8.status_code == 400
    assert_error_shape(await not_utf8.get_json())
    forged = await client.put("/api/v1/session/profile", json={"display_name": "Mallory"})
    assert forged.status_code == 403  # no CSRF token
    assert (await (await client.get("/api/v1/session")).get_json())["display_name"] == "山田 花子"

    cleared = await client.put(
        "/api/v1/session/profile", json={"display_name": " "}, headers=headers
    )
    assert (await cleared.get_json())["display_name"] is None
    history = await (await client.get(path)).get_json()
    assert history["messages"][-1]["author_name"] == "owner"


async def test_a_bad_display_name_at_sign_up_makes_no_account(client: Client) -> None:
    headers = {"X-CSRF-Token": await json_session(client, "/api/v1/setup", OWNER)}
    await client.put("/api/v1/admin/registration", json={"registration": "open"}, headers=headers)
    guest = client.app.test_client()
    refused = await guest.post("/api/v1/accounts", json={**GUEST, "display_name": "\u202eZoë"})
    assert refused.status_code == 400
    assert_error_shape(await refused.get_json())
    made = await guest.post("/api/v1/accounts", json={**GUEST, "display_name": "Zoë"})
    assert made.status_code == 201  # the login name was not taken by the refused try
    assert (await made.get_json())["display_name"] == "Zoë"


async def test_a_channel_keeps_its_name_as_written(client: Client) -> None:
    headers = {"X-CSRF-Token": await json_session(client, "/api/v1/setup", OWNER)}
    made = await client.post(
        "/api/v1/channels",
        json={"name": "  Year 7   Science ", "visibility": "public"},
        headers=headers,
    )
    assert made.status_code == 201
    science = await made.get_json()
    assert (science["name"], science["title"]) == ("year 7 science", "Year 7 Science")
    same = await client.post(
        "/api/v1/channels", json={"name": "YEAR 7 science", "visibility": "public"}, headers=headers
    )
    assert same.status_code == 409  # one channel per name, whatever its case
    listed = (await (await client.get("/api/v1/channels")).get_json())["channels"]
    assert {c["title"] for c in listed} == {"general", "Year 7 Science"}
    directory = (await (await client.get("/api/v1/channels/public")).get_json())["channels"]
    assert "Year 7 Science" in {c["title"] for c in directory}
    page = await (await client.get(f"/chat/{science['id']}")).get_data(as_text=True)
    assert "<h1>" in page and "Year 7 Science</h1>" in page

    private = await client.post(
        "/api/v1/channels",
        json={"name": "The Smith Family", "visibility": "private"},
        headers=headers,
    )
    family = await private.get_json()
    token = (await (await client.get(f"/api/v1/channels/{family['id']}/invite")).get_json())[
        "token"
    ]
    await client.put("/api/v1/admin/registration", json={"registration": "open"}, headers=headers)
    guest = client.app.test_client()
    guest_csrf = await json_session(guest, "/api/v1/accounts", GUEST)
    accepted = await guest.post(
        "/api/v1/invites/accept", json={"token": token}, headers={"X-CSRF-Token": guest_csrf}
    )
    assert (await accepted.get_json())["title"] == "The Smith Family"


async def test_the_status_says_in_plain_words_how_the_box_is_and_keeps_money_for_admins(
    client: Client,
) -> None:
    owner = {"X-CSRF-Token": await json_session(client, "/api/v1/setup", OWNER)}
    admin_view = await (await client.get("/api/v1/status")).get_json()
    assert admin_view["chain"]["address"].startswith("0x")
    admin_page = await (await client.get("/status")).get_data(as_text=True)
    assert admin_view["chain"]["address"] in admin_page
    await client.put("/api/v1/admin/registration", json={"registration": "open"}, headers=owner)
    await client.delete("/api/v1/session", headers=owner)

    for viewer in ("logged out", "member"):
        if viewer == "member":
            await json_session(client, "/api/v1/accounts", GUEST)
        shown = await (await client.get("/api/v1/status")).get_json()
        assert shown["chain"]["state"] == admin_view["chain"]["state"]
        assert not {"address", "balance", "registry", "rpc_url"} & set(shown["chain"]), viewer
    page = await (await client.get("/status")).get_data(as_text=True)
    assert "The box is working well." in page  # Kubo runs, the disk has room
    assert "Room for messages and files:" in page and "<details" in page
    assert admin_view["chain"]["address"] not in page


async def test_pages_and_refusals_speak_german_to_a_german_browser_and_codes_stay(
    client: Client,
) -> None:
    german = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
    page = await (await client.get("/setup", headers=german)).get_data(as_text=True)
    assert '<html lang="de">' in page and "Willkommen bei deiner chatbox" in page
    owner = {"X-CSRF-Token": await json_session(client, "/api/v1/setup", OWNER), **german}

    refused = await client.post(
        "/api/v1/channels", json={"name": "-", "visibility": "public"}, headers=owner
    )
    body = await refused.get_json()
    assert refused.status_code == 400 and body["code"] == "invalid_input"
    assert body["error"].startswith("ein Kanalname darf Buchstaben")
    english = await client.post(
        "/api/v1/channels",
        json={"name": "-", "visibility": "public"},
        headers={"X-CSRF-Token": owner["X-CSRF-Token"]},
    )
    assert (await english.get_json())["error"].startswith("channel name may hold letters")

    status = await (await client.get("/status", headers=german)).get_data(as_text=True)
    assert "Die Box läuft gut." in status and "Platz für Nachrichten und Dateien" in status
    # Sizes as German writes numbers, with a decimal comma.
    assert re.search(r"<strong>\d+,\d (KB|MB|GB)</strong> frei von", status), status
    # A choice made on this device outranks the browser's language.
    client.set_cookie("localhost", "chatbox-lang", "en")
    chosen = await (await client.get("/status", headers=german)).get_data(as_text=True)
    assert '<html lang="en">' in chosen and "The box is working well." in chosen


async def test_a_person_mutes_a_channel_of_theirs_and_only_theirs(client: Client) -> None:
    owner = {"X-CSRF-Token": await json_session(client, "/api/v1/setup", OWNER)}
    general = (await (await client.get("/api/v1/channels")).get_json())["channels"][0]["id"]
    muted = await client.put(
        f"/api/v1/channels/{general}/mute", json={"muted": True}, headers=owner
    )
    assert await muted.get_json() == {"muted": True}
    listed = (await (await client.get("/api/v1/channels")).get_json())["channels"]
    assert [(c["name"], c["muted"]) for c in listed] == [("general", True)]
    await client.put(f"/api/v1/channels/{general}/mute", json={"muted": False}, headers=owner)
    listed = (await (await client.get("/api/v1/channels")).get_json())["channels"]
    assert listed[0]["muted"] is False

    made = await client.post(
        "/api/v1/channels", json={"name": "staff", "visibility": "private"}, headers=owner
    )
    staff = (await made.get_json())["id"]
    await client.put("/api/v1/admin/registration", json={"registration": "open"}, headers=owner)
    guest = client.app.test_client()
    guest_headers = {"X-CSRF-Token": await json_session(guest, "/api/v1/accounts", GUEST)}
    for channel, body, status in [
        (staff, {"muted": True}, 404),  # not theirs
        ("0" * 64, {"muted": True}, 404),
        (general, {"muted": "yes"}, 400),
        (general, {}, 400),
        (general, {"muted": True, "also": 1}, 400),
    ]:
        answer = await guest.put(
            f"/api/v1/channels/{channel}/mute", json=body, headers=guest_headers
        )
        assert answer.status_code == status, (channel, body)
        assert_error_shape(await answer.get_json())
    refused = await guest.put(f"/api/v1/channels/{general}/mute", json={"muted": True})
    assert refused.status_code == 403  # no CSRF token
