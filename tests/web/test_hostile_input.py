"""Hostile bodies to every route that takes one: each gets a 400 (or 413) in the one error
shape, and nothing is stored. Run against the real node through the Quart test client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from quart.typing import TestClientProtocol as Client

from chatbox.web.json_body import MAX_JSON_BYTES
from tests.web.conftest import assert_error_shape, json_session

# The node's own code must not block the event loop while it serves (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("no_blocking")

OWNER = {"name": "owner", "password": "owner password"}
HOSTILE_BODIES = {
    "not UTF-8": b'{"name":"\xc3(","password":"x"}',
    "UTF-16": '{"name":"owner"}'.encode("utf-16"),
    "cut short": b'{"name":"own',
    "NaN": b'{"clock": NaN}',
    "a float": b'{"clock": 1.5}',
    "a duplicate key": b'{"text":"a","text":"b"}',
    "a lone surrogate": b'{"text":"\\ud800"}',
    "an endless integer": b'{"clock": ' + b"9" * 5000 + b"}",
    "nested too deep": b"[" * 30_000 + b"]" * 30_000,
    "a list": b"[]",
    "a string": b'"text"',
    "null": b"null",
    "empty": b"",
}


async def _logged_in(client: Client) -> tuple[dict[str, str], str]:
    csrf = await json_session(client, "/api/v1/setup", OWNER)
    headers = {"X-CSRF-Token": csrf}
    channel = await client.post(
        "/api/v1/channels", json={"name": "plans", "visibility": "public"}, headers=headers
    )
    return headers, (await channel.get_json())["id"]


async def _json_routes(client: Client, channel_id: str) -> list[tuple[str, str]]:
    document = await (await client.get("/api/v1/openapi.json")).get_json()
    routes = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                routes.append((method.upper(), path.replace("{channel_id}", channel_id)))
    return routes


async def test_every_json_route_refuses_hostile_bodies_with_a_400(client: Client) -> None:
    headers, channel_id = await _logged_in(client)
    routes = await _json_routes(client, channel_id)
    assert len(routes) >= 10, routes
    failures = []
    for method, path in routes:
        for name, body in HOSTILE_BODIES.items():
            response = await client.open(
                path,
                method=method,
                data=body,
                headers={**headers, "Content-Type": "application/json"},
            )
            if response.status_code != 400:
                failures.append(f"{method} {path} {name}: {response.status_code}")
            assert_error_shape(await response.get_json())
    assert failures == []
    messages = await client.get(f"/api/v1/channels/{channel_id}/messages")
    assert (await messages.get_json())["messages"] == []


async def test_a_logged_out_login_with_bytes_that_are_not_utf8_is_a_400(client: Client) -> None:
    await _logged_in(client)
    fresh = client.app.test_client()
    response = await fresh.post(
        "/api/v1/session",
        data=HOSTILE_BODIES["not UTF-8"],
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    body = await response.get_json()
    assert_error_shape(body)
    assert body["error"] == "malformed JSON" and body["code"] == "invalid_input"


async def test_a_json_body_past_its_bound_is_refused_before_it_is_read(client: Client) -> None:
    headers, channel_id = await _logged_in(client)
    response = await client.post(
        f"/api/v1/channels/{channel_id}/messages",
        data=b'{"text":"' + b"a" * MAX_JSON_BYTES + b'"}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert (await response.get_json())["code"] == "too_large"


async def test_wrong_types_are_refused_not_converted(client: Client) -> None:
    headers, channel_id = await _logged_in(client)
    cases = [
        (f"/api/v1/channels/{channel_id}/messages", {"text": 0}),
        (f"/api/v1/channels/{channel_id}/messages", {"text": ["a"]}),
        ("/api/v1/channels", {"name": 0, "visibility": "public"}),
        ("/api/v1/channels", {"name": "second", "visibility": "public", "owner": "me"}),
        (f"/api/v1/channels/{channel_id}/read", {"clock": "0"}),
        (f"/api/v1/channels/{channel_id}/read", {"clock": True}),
        ("/api/v1/invites/accept", {"token": 12}),
    ]
    for path, body in cases:
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 400, (path, body, response.status_code)
        assert_error_shape(await response.get_json())
    messages = await client.get(f"/api/v1/channels/{channel_id}/messages")
    assert (await messages.get_json())["messages"] == []
    channels = await (await client.get("/api/v1/channels")).get_json()
    assert [c["name"] for c in channels["channels"]] == ["general", "plans"]  # nothing added


async def test_the_documented_text_limit_is_the_one_enforced(client: Client) -> None:
    headers, channel_id = await _logged_in(client)
    document = await (await client.get("/api/v1/openapi.json")).get_json()
    post = document["paths"]["/api/v1/channels/{channel_id}/messages"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    limit = schema["properties"]["text"]["maxLength"]
    path = f"/api/v1/channels/{channel_id}/messages"
    at_limit = await client.post(path, json={"text": "a" * limit}, headers=headers)
    past_it = await client.post(path, json={"text": "a" * (limit + 1)}, headers=headers)
    assert (at_limit.status_code, past_it.status_code) == (201, 400)


async def test_broken_multipart_uploads_are_400s(client: Client) -> None:
    headers, channel_id = await _logged_in(client)
    path = f"/api/v1/channels/{channel_id}/files"
    boundary = "XyZ"
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=file; filename=a.txt\r\n"
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    bodies = {
        "no closing boundary": head + b"hello",
        "garbage headers": f"--{boundary}\r\n\x00\xff\xfe\r\n\r\nhello\r\n--{boundary}--".encode(
            "latin-1"
        ),
        "no parts": f"--{boundary}--\r\n".encode(),
        "not multipart at all": b"\xff\xfe\x00junk",
        "a part that is not the file": (
            f"--{boundary}\r\nContent-Disposition: form-data; name=other\r\n\r\nx\r\n"
            f"--{boundary}--\r\n"
        ).encode(),
    }
    for name, body in bodies.items():
        response = await client.post(
            path,
            data=body,
            headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert response.status_code == 400, (name, response.status_code)
        assert_error_shape(await response.get_json())
    messages = await client.get(f"/api/v1/channels/{channel_id}/messages")
    assert (await messages.get_json())["messages"] == []


async def test_a_boundary_that_is_not_ascii_is_a_400(client: Client) -> None:
    headers, channel_id = await _logged_in(client)
    response = await client.post(
        f"/api/v1/channels/{channel_id}/files",
        data=b"--\xe2\x9c\x93\r\n",
        headers={**headers, "Content-Type": "multipart/form-data; boundary*=UTF-8''%E2%9C%93"},
    )
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "the multipart boundary is not ASCII"


async def test_a_chunked_json_body_is_refused_once_past_its_bound_not_once_read(
    served: str,
) -> None:
    sent = 0
    async with aiohttp.ClientSession() as http:

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal sent
            yield b'{"name":"owner","password":"'
            for _ in range(3000):  # 3 MiB: under the app's upload bound, far over the JSON one
                sent += 1024
                yield b"a" * 1024
                await asyncio.sleep(0)  # let the answer in while the body still flows

        # No Content-Length: aiohttp sends a body from an iterator chunked.
        async with http.post(
            served + "/api/v1/session",
            data=chunks(),
            headers={"Content-Type": "application/json"},
        ) as response:
            answered_after = sent
            assert response.status == 413
            assert (await response.json())["code"] == "too_large"
    # The server stopped reading near 64 KiB instead of buffering all 3 MiB first.
    assert answered_after < 1024 * 1024, answered_after
