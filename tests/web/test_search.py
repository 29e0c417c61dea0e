"""Search through the JSON API and the pages, on a real node (Kubo, SQLite): what a
person finds, only in what they may read, with nothing of private channels on the disk."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from quart.typing import TestClientProtocol as Client

from chatbox.daemon import DATABASE_FILE, Node
from tests.web.conftest import assert_error_shape, json_session

pytestmark = pytest.mark.usefixtures("no_blocking")

OWNER = {"name": "owner", "password": "owner password"}
PUPIL = {"name": "pupil", "password": "pupil password"}


async def _box(client: Client) -> tuple[dict[str, str], Client, dict[str, str], dict[str, str]]:
    """The owner and a member, each on a client, and the channels: #general (both), a
    public one only the owner joined, a private one of both, a private one of the owner."""
    owner = {"X-CSRF-Token": await json_session(client, "/api/v1/setup", OWNER)}
    await client.put("/api/v1/admin/registration", json={"registration": "open"}, headers=owner)
    pupil = client.app.test_client()
    member = {"X-CSRF-Token": await json_session(pupil, "/api/v1/accounts", PUPIL)}
    listed = await (await client.get("/api/v1/channels")).get_json()
    ids = {"general": listed["channels"][0]["id"]}
    for name, visibility in [
        ("Staff News", "public"),
        ("Form 7B", "private"),
        ("Owner only", "private"),
    ]:
        made = await client.post(
            "/api/v1/channels", json={"name": name, "visibility": visibility}, headers=owner
        )
        ids[name] = (await made.get_json())["id"]
    invite = await (await client.get(f"/api/v1/channels/{ids['Form 7B']}/invite")).get_json()
    joined = await pupil.post(
        "/api/v1/invites/accept", json={"token": invite["token"]}, headers=member
    )
    assert joined.status_code == 200, await joined.get_data(as_text=True)
    return owner, pupil, member, ids


async def _post(client: Client, headers: dict[str, str], channel: str, text: str) -> str:
    posted = await client.post(
        f"/api/v1/channels/{channel}/messages", json={"text": text}, headers=headers
    )
    assert posted.status_code == 201
    return str((await posted.get_json())["cid"])


async def _found(client: Client, query: str) -> list[dict]:  # type: ignore[type-arg]
    answer = await client.get("/api/v1/search", query_string={"q": query})
    assert answer.status_code == 200, await answer.get_data(as_text=True)
    return list((await answer.get_json())["results"])


async def test_a_person_finds_words_in_any_case_and_accent_in_every_channel_they_may_read(
    client: Client, node: Node
) -> None:
    owner, pupil, member, ids = await _box(client)
    await _post(client, owner, ids["general"], "The Science fair is on Friday")
    await _post(pupil, member, ids["general"], "Zoë will bring the volcano for science")
    await _post(client, owner, ids["Staff News"], "science budget for next year")
    await _post(client, owner, ids["Form 7B"], "7B: science homework is page 12")
    await _post(client, owner, ids["Owner only"], "science marks are ready")
    await _post(client, owner, ids["general"], "nothing to see here")

    found = await _found(pupil, "SCI")
    texts = [result["message"]["text"] for result in found]
    # Newest first; not the public channel they did not join, nor the private one they
    # were not invited to.
    assert texts == [
        "7B: science homework is page 12",
        "Zoë will bring the volcano for science",
        "The Science fair is on Friday",
    ]
    assert [result["channel"]["title"] for result in found] == ["Form 7B", "general", "general"]
    assert "<mark>science</mark>" in found[0]["snippet_html"]
    assert [r["message"]["text"] for r in await _found(pupil, "zoe volc")] == [
        "Zoë will bring the volcano for science"
    ]
    assert await _found(pupil, "science marks") == []
    await _post(client, owner, ids["general"], "Treffpunkt: Lange Straße 5")
    for query in ("Straße", "STRAßE", "stra", "lange straße"):  # ß is kept as the index keeps it
        texts = [result["message"]["text"] for result in await _found(pupil, query)]
        assert texts == ["Treffpunkt: Lange Straße 5"], query
    assert len(await _found(client, "science")) == 5  # the owner reads every channel

    # Nothing of a private channel is written where the disk keeps text.
    database = sqlite3.connect(node.settings.data_dir / DATABASE_FILE)
    try:
        indexed = database.execute(
            "SELECT count(*) FROM message_search WHERE message_search MATCH 'homework OR marks'"
        ).fetchone()[0]
        public = database.execute(
            "SELECT count(*) FROM message_search WHERE message_search MATCH 'volcano'"
        ).fetchone()[0]
    finally:
        database.close()
    assert (indexed, public) == (0, 1)
    files = await asyncio.to_thread(lambda: list(node.settings.data_dir.glob(DATABASE_FILE + "*")))
    on_disk = b"".join([await asyncio.to_thread(path.read_bytes) for path in files])
    assert b"homework" not in on_disk and b"volcano" in on_disk


async def test_a_found_text_is_escaped_and_only_its_words_are_marked(client: Client) -> None:
    owner, _, _, ids = await _box(client)
    await _post(client, owner, ids["general"], '<img src=x onerror=alert(1)> science & "art"')
    result = (await _found(client, "science"))[0]
    snippet = result["snippet_html"]
    assert snippet == "&lt;img src=x onerror=alert(1)&gt; <mark>science</mark> &amp; &#34;art&#34;"
    long = "word " * 100 + "needle " + "word " * 100
    await _post(client, owner, ids["general"], long)
    cut = (await _found(client, "needle"))[0]["snippet_html"]
    assert cut.startswith("…") and cut.endswith("…") and "<mark>needle</mark>" in cut
    assert len(cut) < 260


@pytest.mark.parametrize(
    ("query", "finds"),
    [
        ('"', False),
        ('"science', True),
        ("science*", True),
        ("NEAR(science art)", False),  # "near" is a word to find too, and it is not there
        ("science AND", True),  # as is "and", which is
        ("-science", True),
        ("words:x", False),
        ("^science", True),
        ("(", False),
        ("science OR OR", False),
        ("'; DROP TABLE entries; --", False),
        ("\u202e science", True),
        ("🙂 science", True),
    ],
)
async def test_what_the_index_would_take_as_syntax_is_only_words(
    client: Client, query: str, finds: bool
) -> None:
    owner, _, _, ids = await _box(client)
    await _post(client, owner, ids["general"], "science and art")
    answer = await client.get("/api/v1/search", query_string={"q": query})
    body = await answer.get_json()
    if answer.status_code == 400:  # nothing to look for in it
        assert_error_shape(body)
        assert body["error"] == "type a word to search for" and not finds
    else:
        assert answer.status_code == 200
        expected = ["science and art"] if finds else []
        assert [r["message"]["text"] for r in body["results"]] == expected


@pytest.mark.parametrize(
    ("query_string", "error"),
    [
        ({}, "invalid request"),
        ({"q": ""}, "type a word to search for"),
        ({"q": " !?. "}, "type a word to search for"),
        ({"q": "x" * 201}, "a search is at most 200 characters"),
        ({"q": "x", "limit": "0"}, "invalid request"),
        ({"q": "x", "limit": "51"}, "invalid request"),
        ({"q": "x", "limit": "many"}, "invalid request"),
    ],
)
async def test_a_search_with_nothing_to_look_for_is_refused_with_a_reason(
    client: Client, query_string: dict[str, str], error: str
) -> None:
    await _box(client)
    answer = await client.get("/api/v1/search", query_string=query_string)
    body = await answer.get_json()
    assert answer.status_code == 400 and body["error"] == error
    assert_error_shape(body)


async def test_search_needs_a_session(client: Client) -> None:
    answer = await client.get("/api/v1/search", query_string={"q": "science"})
    assert answer.status_code == 401


async def test_a_result_opens_its_channel_at_the_message_with_newer_ones_to_page_to(
    client: Client,
) -> None:
    owner, pupil, _, ids = await _box(client)
    cids = [await _post(client, owner, ids["general"], f"note {n}") for n in range(120)]
    await _post(client, owner, ids["general"], "the quince recipe")
    target = cids[60]
    page = await (await pupil.get(f"/chat/{ids['general']}?around={target}")).get_data(as_text=True)
    assert f'id="m-{target}"' in page
    assert ">note 60<" in page and ">note 35<" in page and ">note 85<" in page
    assert ">note 34<" not in page and ">note 86<" not in page  # older and newer wait
    assert 'data-after="' in page and 'data-after=""' not in page
    for wrong in ("bafkreinotacid", cids[0].replace("a", "b", 1)):
        missing = await pupil.get(f"/chat/{ids['general']}?around={wrong}")
        assert missing.status_code == 404
    # A message of another channel is not opened as if it were in this one.
    elsewhere = await _post(client, owner, ids["Form 7B"], "in 7B")
    assert (await pupil.get(f"/chat/{ids['general']}?around={elsewhere}")).status_code == 404
    # The search page lists the result with a link there, in the person's words.
    listed = await (await pupil.get("/search", query_string={"q": "quince"})).get_data(as_text=True)
    assert "1 message found for “quince”" in listed and "?around=" in listed


async def test_a_reply_is_found_in_a_private_channel_and_opens_its_thread_s_message(
    client: Client,
) -> None:
    owner, pupil, member, ids = await _box(client)
    asked = await _post(client, owner, ids["Form 7B"], "Who has the microscope?")
    posted = await pupil.post(
        f"/api/v1/channels/{ids['Form 7B']}/messages",
        json={"text": "the microscope is in room 12", "reply_to": asked},
        headers=member,
    )
    assert posted.status_code == 201
    reply = (await posted.get_json())["cid"]
    found = await _found(client, "room 12")
    assert [r["message"]["cid"] for r in found] == [reply]
    assert found[0]["message"]["reply_to"] == asked
    page = await (await client.get("/search", query_string={"q": "room 12"})).get_data(True)
    assert f'?around={asked}#m-{asked}"' in page, "a reply's result opens its thread's message"
