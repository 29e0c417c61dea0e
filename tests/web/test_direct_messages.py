"""Direct messages in the browser, at phone and desktop sizes: started from a person's
card in a long channel, arriving live in the other person's list, and read at the end."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.web.conftest import ARTIFACTS
from tests.web.pages import logged_in
from tests.web.test_chat_screen import (
    MESSAGES,
    SIZES,
    LongChannel,
    _axe,
    comes_into_view,
    contexts,
    in_view,
    long_channel,
    page_scrolls,
    row,
)

__all__ = ["contexts", "long_channel"]  # fixtures this module shares with the chat screen's
NOTIFICATIONS = """window.shown = [];
   window.Notification = class extends window.Notification {
     constructor(title, options) {
       super(title, options);
       window.shown.push([title, options.body]);
     }
   };"""
# Messages 498 to 500 of the long channel are the friend's; the first of a run shows the name.
FRIENDS_NAME = ".message[data-handle=friend]:not(.continued) .author"


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_a_direct_message_is_started_from_a_card_and_arrives_live(
    size: str, long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    friend = await logged_in(
        browser,
        contexts,
        served,
        "friend",
        SIZES[size],
        permissions=["notifications"],
        bypass_csp=True,
    )
    await friend.add_init_script(NOTIFICATIONS)
    await friend.goto(f"{served}/chat")
    assert await friend.locator(".conversations a").count() == 0

    owner = await logged_in(browser, contexts, served, "owner", SIZES[size])
    await owner.goto(f"{served}/chat/{long_channel.channel.id}")
    await owner.locator(FRIENDS_NAME).last.click()
    card = owner.locator("dialog.person-card")
    await expect(card.locator("#person-name")).to_have_text("friend")
    await card.get_by_role("button", name="Send a direct message").click()
    await expect(owner.locator(".conversation-head h1")).to_have_text("friend")
    await expect(owner.locator(".history-start")).to_contain_text("your conversation with friend")
    assert await owner.locator(".conversation-head a", has_text="Invite").count() == 0

    await owner.fill(".composer textarea", "are you coming to the kestrel walk?")
    await owner.press(".composer textarea", "Enter")
    asked = owner.locator(".message", has_text="kestrel walk")
    await expect(asked).to_be_visible()
    assert await comes_into_view(owner, asked)

    # On the friend's page the conversation appears in its own section, counted, and notifies.
    link = friend.locator(".conversations a", has_text="owner")
    await expect(link).to_be_visible()
    await expect(link.locator(".unread .count")).to_have_text("1")
    assert await in_view(friend, link), "the new conversation is off screen"
    await friend.wait_for_function("window.shown.length > 0")
    assert await friend.evaluate("window.shown") == [
        ["owner wrote to you", "are you coming to the kestrel walk?"]
    ]
    await link.click()
    await expect(friend.locator(".conversation-head h1")).to_have_text("owner")
    await friend.fill(".composer textarea", "yes, with binoculars")
    await friend.press(".composer textarea", "Enter")
    answer = owner.locator(".message", has_text="with binoculars")
    await expect(answer).to_be_visible()
    assert await comes_into_view(owner, answer), "the answer came in off screen"

    # The same card starts no second conversation.
    await owner.goto(f"{served}/chat/{long_channel.channel.id}")
    await owner.locator(FRIENDS_NAME).last.click()
    await (
        owner.locator("dialog.person-card")
        .get_by_role("button", name="Send a direct message")
        .click()
    )
    await expect(owner.locator(".message", has_text="with binoculars")).to_be_visible()
    assert await owner.locator(".conversations a").count() == 1

    # A conversation as long as a channel opens at its newest message, box on screen.
    services = long_channel.node.services
    conversation = (await services.conversations.of(long_channel.owner))[0]
    for n in range(1, MESSAGES // 2 + 1):
        await services.messages.post_text(
            long_channel.owner, conversation.channel.id, f"message {n} of the long channel"
        )
    await friend.goto(f"{served}/chat/{conversation.channel.id}")
    newest = row(friend, MESSAGES // 2)
    await expect(newest).to_be_visible()
    assert await in_view(friend, newest), "the newest message is off screen"
    assert await in_view(friend, friend.locator(".composer textarea"))
    assert not await page_scrolls(friend)
    await friend.screenshot(path=ARTIFACTS / f"direct-{size}.png")
    assert await _axe(friend) == []
    if size == "desktop":  # the sidebar shows beside the conversation
        assert await in_view(friend, friend.locator(".conversations a[aria-current=page]"))


async def test_the_people_page_starts_a_conversation_and_refusals_are_plain(
    long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    services = long_channel.node.services
    await services.accounts.register("pupil", "pupil password")
    owner = await logged_in(browser, contexts, served, "owner", SIZES["phone"])
    await owner.goto(f"{served}/people")
    assert await owner.locator("li.me [data-action=write-to]").count() == 0
    assert await owner.locator("li.me input.choose").count() == 0
    await owner.locator("li", has_text="friend").get_by_role("button", name="Message").click()
    await expect(owner.locator(".conversation-head h1")).to_have_text("friend")

    # Two people ticked: one conversation of three, named by the other two.
    await owner.goto(f"{served}/people")
    start = owner.get_by_role("button", name="Write to the people ticked")
    await expect(start).to_be_disabled()
    await owner.get_by_label("Choose friend").check()
    await owner.get_by_label("Choose pupil").check()
    await owner.screenshot(path=ARTIFACTS / "people-choose-phone.png")
    await start.click()
    await expect(owner.locator(".conversation-head h1")).to_have_text("friend, pupil")
    await owner.fill(".composer textarea", "the trip is on Friday")
    await owner.press(".composer textarea", "Enter")
    pupil = await logged_in(browser, contexts, served, "pupil", SIZES["phone"])
    group = pupil.locator(".conversations a", has_text="friend, owner")
    await expect(group.locator(".unread .count")).to_have_text("1")
    assert await owner.locator(".conversations a").count() == 2

    async def refused(body: Any) -> tuple[int, dict[str, Any]]:
        answer = await owner.evaluate(
            """async (body) => {
                const csrf = document.querySelector('meta[name=csrf-token]').content;
                const response = await fetch('/api/v1/conversations', {
                  method: 'POST', body, credentials: 'same-origin',
                  headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}});
                return [response.status, await response.json()];
            }""",
            body,
        )
        return int(answer[0]), dict(answer[1])

    for body, status in (
        ('{"members": ["' + "ab" * 32 + '"]}', 404),  # nobody this box heard of
        ('{"members": []}', 400),  # oneself alone
        ('{"members": "friend"}', 400),
        ('{"members": ["not a key"]}', 400),
        ('{"members": [' + ",".join(f'"{n:064x}"' for n in range(9)) + "]}", 400),
        ("{not json", 400),
    ):
        code, error = await refused(body)
        assert code == status, (body, error)
        assert set(error) >= {"error", "code"} and error["error"], error

    conversation = (await long_channel.node.services.conversations.of(long_channel.owner))[0]
    answer = await owner.evaluate(
        "async (id) => (await fetch(`/api/v1/channels/${id}/invite`)).status",
        conversation.channel.id,
    )
    assert answer == 403, "a conversation has no invite link"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_the_channel_list_with_conversations_the_card_and_the_people_page_fit_and_pass_axe(
    size: str,
    scheme: str,
    long_channel: LongChannel,
    served: str,
    browser: Browser,
    contexts: list[Any],
) -> None:
    services = long_channel.node.services
    pupil = await services.accounts.register("pupil", "pupil password")
    owner, friend = long_channel.owner, long_channel.friend
    await services.conversations.start(owner, [friend.identity.public_key])
    await services.conversations.start(
        owner, [friend.identity.public_key, pupil.identity.public_key]
    )
    page = await logged_in(
        browser, contexts, served, "owner", SIZES[size], color_scheme=scheme, bypass_csp=True
    )
    await page.goto(f"{served}/chat/{long_channel.channel.id}")
    newest = row(page, MESSAGES)
    await expect(newest).to_be_visible()
    assert await in_view(page, newest), "the newest message is off screen"
    assert await in_view(page, page.locator(".composer textarea")), "the message box is off"
    assert not await page_scrolls(page)
    header = await page.locator("header.top").bounding_box()
    assert header is not None and header["height"] <= 56
    if size == "desktop":  # beside the conversation: both sections of the list, in view
        for name in ("friend", "friend, pupil"):
            link = page.locator(".conversations a", has_text=name).first
            assert await in_view(page, link), f"the conversation with {name} is off screen"
    await page.screenshot(path=ARTIFACTS / f"conversations-{size}-{scheme}.png")
    assert await _axe(page) == []

    await page.locator(FRIENDS_NAME).last.click()
    card = page.locator("dialog.person-card")
    await expect(card.get_by_role("button", name="Send a direct message")).to_be_visible()
    await page.screenshot(path=ARTIFACTS / f"person-card-{size}-{scheme}.png")
    assert await _axe(page) == []

    await page.goto(f"{served}/people")
    await page.get_by_label("Choose pupil").check()
    assert await in_view(page, page.get_by_label("Choose pupil"))
    # A page of its own scrolls down as it grows; never sideways.
    assert await page.evaluate("document.scrollingElement.scrollWidth <= innerWidth + 1")
    await page.screenshot(path=ARTIFACTS / f"people-{size}-{scheme}.png", full_page=True)
    assert await _axe(page) == []
