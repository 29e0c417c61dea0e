"""Moderation as people meet it, on a real node (Kubo, SQLite) on a real chain: the JSON
API with its one refusal shape, and a moderator removing a message and banning its author
in Chromium, at phone and desktop sizes, in a channel of a few hundred messages."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from quart import Quart
from quart.typing import TestClientProtocol as Client

from chatbox.daemon import Node, web_services
from chatbox.devstack import free_port
from chatbox.domain.channels import Channel
from chatbox.domain.cid import raw_cid
from chatbox.services.accounts import Member
from chatbox.web.app import create_app
from tests.conftest import eventually
from tests.web.conftest import ARTIFACTS, assert_error_shape, browser, json_session, serving
from tests.web.pages import logged_in
from tests.web.test_chat_screen import _axe

__all__ = ["browser"]  # the fixture, used by name below

OWNER = {"name": "owner", "password": "owner password"}
PUPIL = {"name": "pupil", "password": "pupil password"}
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture
def app(chain_node: Node) -> Quart:
    return create_app(web_services(chain_node.services), 1024 * 1024, "school", "test", 0.5)


async def _founded(node: Node, member: Member, channel_id: str) -> bool:
    view = await node.services.moderation.view(member, channel_id)
    return view.available and bool(view.founders)


async def test_moderation_through_the_api_and_its_refusals(chain_node: Node, app: Quart) -> None:
    client: Client = app.test_client()
    owner = {"X-CSRF-Token": await json_session(client, "/api/v1/setup", OWNER)}
    await client.put("/api/v1/admin/registration", json={"registration": "open"}, headers=owner)
    pupil_client = app.test_client()
    pupil = {"X-CSRF-Token": await json_session(pupil_client, "/api/v1/accounts", PUPIL)}
    general = (await (await client.get("/api/v1/channels")).get_json())["channels"][0]["id"]
    accounts = chain_node.services.accounts
    owner_member = await accounts.unlock("owner", OWNER["password"])
    await eventually(
        lambda: _founded(chain_node, owner_member, general), what="the welcome channel founded"
    )
    url = f"/api/v1/channels/{general}"
    seen = await (await pupil_client.get(f"{url}/moderation")).get_json()
    owner_key = seen["founders"][0]
    assert seen["moderators"] == [owner_key] and not seen["you_moderate"]
    said = await pupil_client.post(f"{url}/messages", json={"text": "hi all"}, headers=pupil)
    pupils = (await said.get_json())["cid"]
    pupil_key = (await said.get_json())["author"]
    said = await client.post(f"{url}/messages", json={"text": "welcome"}, headers=owner)
    owners = (await said.get_json())["cid"]

    # What a member who does not moderate may not do, each refused in the one shape.
    refusals = [
        (pupil_client.delete(f"/api/v1/messages/{owners}", headers=pupil), 403),
        (pupil_client.post(f"{url}/bans", json={"key": owner_key}, headers=pupil), 403),
        (pupil_client.post(f"{url}/moderators", json={"key": pupil_key}, headers=pupil), 403),
        (client.post(f"{url}/bans", json={"key": "zz" * 32}, headers=owner), 400),
        (client.post(f"{url}/bans", json={"key": 7}, headers=owner), 400),
        (client.post(f"{url}/bans", data=b"\xff{", headers=owner), 400),
        (client.delete(f"{url}/bans/{pupil_key}", headers=owner), 409),  # not banned
        (client.delete(f"{url}/moderators/{owner_key}", headers=owner), 403),  # a founder
        (
            client.post(
                f"/api/v1/channels/{'ab' * 32}/bans", json={"key": pupil_key}, headers=owner
            ),
            404,
        ),
        (client.post(f"{url}/bans", json={"key": pupil_key}), 403),  # no CSRF token
    ]
    for call, status in refusals:
        answer = await call
        assert answer.status_code == status, (status, await answer.get_data(as_text=True))
        assert_error_shape(await answer.get_json())

    # The founder removes the pupil's message and bans them; the pupil can no longer post.
    assert (await client.delete(f"/api/v1/messages/{pupils}", headers=owner)).status_code == 200
    page = await (await pupil_client.get(f"{url}/messages")).get_json()
    removed = next(m for m in page["messages"] if m["cid"] == pupils)
    assert removed["deleted"] and removed["text"] is None
    banned = await client.post(f"{url}/bans", json={"key": pupil_key}, headers=owner)
    assert banned.status_code == 200 and (await banned.get_json())["banned"] == [pupil_key]
    refused = await pupil_client.post(f"{url}/messages", json={"text": "let me"}, headers=pupil)
    assert refused.status_code == 403
    assert_error_shape(await refused.get_json())
    again = await client.post(f"{url}/bans", json={"key": pupil_key}, headers=owner)
    assert again.status_code == 409
    appoint = await client.post(f"{url}/moderators", json={"key": pupil_key}, headers=owner)
    assert appoint.status_code == 409  # banned

    # Lifted and appointed, the pupil moderates: they may remove the founder's message.
    assert (await client.delete(f"{url}/bans/{pupil_key}", headers=owner)).status_code == 200
    appoint = await client.post(f"{url}/moderators", json={"key": pupil_key}, headers=owner)
    assert appoint.status_code == 200
    assert (await (await pupil_client.get(f"{url}/moderation")).get_json())["you_moderate"]
    assert (
        await pupil_client.delete(f"/api/v1/messages/{owners}", headers=pupil)
    ).status_code == 200
    gone = await pupil_client.delete(f"/api/v1/messages/{owners}", headers=pupil)
    assert gone.status_code == 409  # a delete of what is deleted
    ban_moderator = await client.post(f"{url}/bans", json={"key": pupil_key}, headers=owner)
    assert ban_moderator.status_code == 409
    dismissed = await client.delete(f"{url}/moderators/{pupil_key}", headers=owner)
    assert dismissed.status_code == 200 and (await dismissed.get_json())["moderators"] == [
        owner_key
    ]


async def test_an_admin_moderates_a_channel_a_member_made_on_the_box(chain_node: Node) -> None:
    services = chain_node.services
    admin = await services.accounts.register("head", "head password", is_admin=True)
    maker = await services.accounts.register("maker", "maker password")
    channel = await services.channels.create(maker, "robots club", "public")
    await eventually(lambda: _founded(chain_node, maker, channel.id), what="the club founded")
    await services.channels.join_public(admin, channel.id)
    rude = await services.messages.post_text(maker, channel.id, "something rude")
    assert (await services.moderation.view(admin, channel.id)).you_moderate
    await services.moderation.delete(admin, rude.cid)
    assert (await services.messages.find(maker, rude.cid)).deleted
    view = await services.moderation.view(maker, channel.id)
    assert sorted(view.founders) == sorted([maker.identity.public_key, admin.identity.public_key])


@pytest.fixture
async def school(chain_node: Node) -> AsyncIterator[tuple[Channel, Member, Member]]:
    services = chain_node.services
    owner = await services.accounts.register("owner", "owner password", is_admin=True)
    pupil = await services.accounts.register("pupil", "pupil password")
    channel = await services.channels.create(owner, "year 7", "public")
    await services.channels.join_public(pupil, channel.id)
    await eventually(lambda: _founded(chain_node, owner, channel.id), what="year 7 founded")
    yield channel, owner, pupil


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_a_moderator_removes_a_message_and_bans_its_author_in_the_browser(
    size: str,
    chain_node: Node,
    app: Quart,
    school: tuple[Channel, Member, Member],
    browser: Browser,
) -> None:
    channel, owner, pupil = school
    services = chain_node.services
    for n in range(150):  # a class's channel: the teacher and a pupil in turn
        await services.messages.post_text(owner, channel.id, f"lesson note {n}")
        await services.messages.post_text(pupil, channel.id, f"pupil note {n}")
    rude = await services.messages.post_text(pupil, channel.id, "something rude")
    contexts: list[BrowserContext] = []
    try:
        async with serving(app, free_port()) as base:
            moderator = await logged_in(browser, contexts, base, "owner", SIZES[size])
            watcher = await logged_in(browser, contexts, base, "pupil", SIZES[size])
            for page in (moderator, watcher):
                await page.goto(f"{base}/chat/{channel.id}")
            row = moderator.locator(f"#m-{rude.cid}")
            await expect(row).to_be_visible()
            await expect(moderator.locator("main.conversation.moderating")).to_have_count(1)
            await _remove(moderator, row)
            for page in (moderator, watcher):  # the pupil sees it go, live
                removed = page.locator(f"#m-{rude.cid}")
                await expect(removed.locator(".gone")).to_have_text("This message was deleted.")
                await expect(removed).not_to_contain_text("something rude")
            # A member who does not moderate is offered no delete of others' messages.
            other = watcher.locator(".message", has_text="lesson note 149")
            await other.hover()
            await expect(other.locator("[data-action=delete]")).to_be_hidden()
            await moderator.screenshot(path=ARTIFACTS / f"moderator-removed-{size}.png")

            # The person card: the moderator bans the pupil, who can no longer post.
            await (
                moderator.locator(".message", has_text="pupil note 149").locator(".author").click()
            )
            card = moderator.locator("dialog.person-card")
            await expect(card.locator("[data-act=ban]")).to_be_visible()
            moderator.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
            await card.locator("[data-act=ban]").click()
            await expect(card.locator(".person-role")).to_have_text("Banned from this channel")
            await expect(card.locator("[data-act=unban]")).to_be_visible()
            await expect(card.locator("[data-act=ban]")).to_be_hidden()
            await moderator.screenshot(path=ARTIFACTS / f"moderator-card-{size}.png")
            await watcher.fill(".composer textarea", "can I still post?")
            await watcher.press(".composer textarea", "Enter")
            await expect(
                watcher.get_by_text("a moderator banned you from this channel")
            ).to_be_visible()
            assert await watcher.locator(".composer textarea").input_value() == "can I still post?"
            await watcher.reload()  # from now on the box says so before they type
            await expect(watcher.locator(".composer")).to_be_hidden()
            reason = watcher.locator(".cannot-post")
            await expect(reason).to_have_text("A moderator banned you from this channel.")
            assert await in_view(reason)
    finally:
        for context in contexts:
            await context.close()


async def _remove(page: Page, row: Any) -> None:
    """Delete another's message as a moderator: through the row's tools, as a person would
    (a finger held on a phone, the pointer over it on a desktop)."""
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await row.hover()
    await row.locator("[data-action=delete]").click()


async def test_a_moderator_sets_the_topic_and_pins_messages_and_members_see_them(
    chain_node: Node, school: tuple[Channel, Member, Member], app: Quart
) -> None:
    channel, owner, pupil = school
    services = chain_node.services
    rules = await services.messages.post_text(owner, channel.id, "Rules: be kind.")
    trip = await services.messages.post_text(owner, channel.id, "Trip on Friday")
    said = await services.messages.post_text(pupil, channel.id, "ok")
    await services.messages.delete(pupil, said.cid)
    owners, pupils = app.test_client(), app.test_client()
    owner_token = await json_session(owners, "/api/v1/session", OWNER)
    pupil_token = await json_session(pupils, "/api/v1/session", PUPIL)
    url = f"/api/v1/channels/{channel.id}/settings"
    body = {
        "topic": "Year 7 news",
        "description": "Homework and trips.",
        "pinned": [],
        "posting": "everyone",
    }
    empty = await (await pupils.get(url)).get_json()
    assert empty == {
        "topic": "",
        "description": "",
        "pinned": [],
        "posting": "everyone",
        "you_may_post": True,
    }

    refusals = [
        (pupils, pupil_token, {**body, "pinned": [rules.cid]}, 403),
        (owners, owner_token, {**body, "pinned": ["nonsense"]}, 400),
        (owners, owner_token, {**body, "pinned": [raw_cid(b"nothing here")]}, 404),
        (owners, owner_token, {**body, "pinned": [said.cid]}, 409),  # deleted
        (owners, owner_token, {**body, "topic": "x" * 201}, 400),
        (owners, owner_token, {"topic": "no pins"}, 400),
        (owners, owner_token, {**body, "posting": "admins"}, 400),
        (owners, owner_token, {k: v for k, v in body.items() if k != "posting"}, 400),
    ]
    for client, token, sent, status in refusals:
        answer = await client.put(url, json=sent, headers={"X-CSRF-Token": token})
        assert answer.status_code == status, (sent, await answer.get_data(as_text=True))
        assert_error_shape(await answer.get_json())

    pins = {**body, "pinned": [trip.cid, rules.cid]}
    answer = await owners.put(url, json=pins, headers={"X-CSRF-Token": owner_token})
    assert answer.status_code == 200, await answer.get_data(as_text=True)
    seen = await (await pupils.get(url)).get_json()
    assert (seen["topic"], seen["description"]) == ("Year 7 news", "Homework and trips.")
    assert [m["text"] for m in seen["pinned"]] == ["Trip on Friday", "Rules: be kind."]
    # A pinned message deleted leaves the list; the rest stays in order.
    await services.messages.delete(owner, trip.cid)
    seen = await (await pupils.get(url)).get_json()
    assert [m["text"] for m in seen["pinned"]] == ["Rules: be kind."]


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_a_moderator_sets_the_topic_and_pins_a_message_that_members_find(
    size: str,
    chain_node: Node,
    app: Quart,
    school: tuple[Channel, Member, Member],
    browser: Browser,
) -> None:
    channel, owner, pupil = school
    services = chain_node.services
    rules = await services.messages.post_text(owner, channel.id, "Rules: be kind to each other")
    for n in range(250):
        await services.messages.post_text(pupil, channel.id, f"chatter {n}")
    contexts: list[BrowserContext] = []
    try:
        async with serving(app, free_port()) as base:
            moderator = await logged_in(browser, contexts, base, "owner", SIZES[size])
            await moderator.goto(f"{base}/chat/{channel.id}")
            await moderator.get_by_role("button", name="Settings").click()
            card = moderator.locator("dialog.settings-card")
            await card.locator("[name=topic]").fill("Homework, trips and news")
            await card.locator("[name=description]").fill("Ask before you post links.")
            await card.locator("[name=moderators_only]").check()
            await card.get_by_role("button", name="Save").click()
            await expect(card).to_be_hidden()
            topic = moderator.locator(".conversation-head .topic")
            await expect(topic).to_have_text("Homework, trips and news")
            assert await topic.is_visible()
            # Pin a message from its tools: the newest, on screen.
            newest = moderator.locator(".message", has_text="chatter 249")
            await newest.hover()
            await newest.locator("[data-action=pin]").click()
            await expect(newest).to_have_class(re.compile(r"\bpinned\b"))
            await expect(newest.locator("[data-action=pin]")).to_have_text("Unpin")
            pins = await services.moderation.settings(owner, channel.id)
            assert pins.pinned == ((await _cid_of(newest)),)
            # And one from far back, through the API as the moderator's other device would.
            await services.moderation.set_settings(
                owner,
                channel.id,
                pins.topic,
                pins.description,
                [*pins.pinned, rules.cid],
                pins.posting,
            )
            await moderator.screenshot(path=ARTIFACTS / f"channel-topic-{size}.png")

            member = await logged_in(browser, contexts, base, "pupil", SIZES[size])
            await member.goto(f"{base}/chat/{channel.id}")
            await expect(member.locator(".conversation-head .topic")).to_have_text(
                "Homework, trips and news"
            )
            await expect(member.get_by_role("button", name="Settings")).to_be_hidden()
            # Only moderators post here: the pupil is told so where they would type.
            await expect(member.locator(".composer")).to_be_hidden()
            reason = member.locator(".cannot-post")
            await expect(reason).to_have_text("Only moderators post in this channel.")
            assert await in_view(reason)
            pinned = member.locator("[data-action=pinned]")
            await expect(pinned.locator(".count")).to_have_text("2")
            await pinned.click()
            listing = member.locator("dialog.pinned-card")
            await expect(listing.locator(".channel-description")).to_have_text(
                "Ask before you post links."
            )
            await expect(listing.locator("li")).to_have_count(2)
            await member.screenshot(path=ARTIFACTS / f"channel-pinned-{size}.png")
            await listing.get_by_role("link", name="Rules: be kind to each other").click()
            far_back = member.locator(f"#m-{rules.cid}")
            await expect(far_back).to_be_visible()
            assert await in_view(far_back)
    finally:
        for context in contexts:
            await context.close()


async def _cid_of(row: Any) -> str:
    return str(await row.get_attribute("data-cid"))


async def in_view(locator: Any) -> bool:
    """Wholly inside the window."""
    return bool(
        await locator.evaluate(
            "(node) => { const box = node.getBoundingClientRect();"
            " return box.height > 0 && box.top >= 0 && box.bottom <= innerHeight + 1; }"
        )
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_what_a_moderator_sees_fits_the_screen_and_passes_axe(
    scheme: str,
    size: str,
    chain_node: Node,
    app: Quart,
    school: tuple[Channel, Member, Member],
    browser: Browser,
) -> None:
    """A moderated channel of 400 messages with a topic and pins: the newest message and
    the composer on screen, the header on one line, and no axe violation on the page or
    in the moderator's dialogs (person card, settings, pinned list), in both themes."""
    channel, owner, pupil = school
    services = chain_node.services
    for n in range(200):
        await services.messages.post_text(owner, channel.id, f"lesson note {n}")
        await services.messages.post_text(pupil, channel.id, f"pupil note {n}")
    await services.moderation.set_settings(
        owner,
        channel.id,
        "Homework, trips and news for the whole of year 7",
        "Be kind.",
        [],
        "everyone",
    )
    newest = await services.messages.post_text(pupil, channel.id, "the newest of all")
    contexts: list[BrowserContext] = []
    try:
        async with serving(app, free_port()) as base:
            page = await logged_in(
                browser, contexts, base, "owner", SIZES[size], color_scheme=scheme, bypass_csp=True
            )
            await page.goto(f"{base}/chat/{channel.id}")
            row = page.locator(f"#m-{newest.cid}")
            await expect(page.locator(".conversation-head .topic")).to_be_visible()
            assert await in_view(row) and await in_view(page.locator(".composer textarea"))
            header = await page.locator("header.top").bounding_box()
            assert header is not None and header["height"] <= 56
            assert not await page.evaluate(
                "document.scrollingElement.scrollWidth > innerWidth + 1"
                " || document.scrollingElement.scrollHeight > innerHeight + 1"
            )
            await row.hover()
            await row.locator("[data-action=pin]").click()
            await expect(page.locator("[data-action=pinned] .count")).to_have_text("1")
            assert await in_view(row)
            assert await _axe(page) == [], f"channel at {size} in {scheme}"
            await page.screenshot(path=ARTIFACTS / f"moderated-channel-{size}-{scheme}.png")
            dialogs = [
                (page.locator(".message:not(.continued) .author").last, "dialog.person-card"),
                (page.get_by_role("button", name="Settings"), "dialog.settings-card"),
                (page.locator("[data-action=pinned]"), "dialog.pinned-card"),
            ]
            for opener, selector in dialogs:
                await opener.click()
                dialog = page.locator(selector)
                await expect(dialog).to_be_visible()
                assert await in_view(dialog), f"{selector} runs off the screen"
                assert await _axe(page) == [], f"{selector} at {size} in {scheme}"
                name = selector.split(".")[1]
                await page.screenshot(path=ARTIFACTS / f"moderated-{name}-{size}-{scheme}.png")
                await page.keyboard.press("Escape")
                await expect(dialog).to_be_hidden()
    finally:
        for context in contexts:
            await context.close()
