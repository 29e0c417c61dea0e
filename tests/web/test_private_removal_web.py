"""Removing a member of a private channel from their card, at phone and desktop sizes: the
channel goes on under a new key, the others are taken there, the removed one is told."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, Dialog, expect

from tests.web.conftest import ARTIFACTS
from tests.web.pages import logged_in
from tests.web.test_chat_screen import (
    SIZES,
    LongChannel,
    contexts,
    in_view,
    long_channel,
    page_scrolls,
)

__all__ = ["contexts", "long_channel"]  # fixtures shared with the chat screen's tests
MESSAGES = 300


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_a_moderator_removes_a_member_and_the_channel_goes_on_without_them(
    size: str, long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    services = long_channel.node.services
    owner, friend = long_channel.owner, long_channel.friend
    pupil = await services.accounts.register("pupil", "pupil password")
    staff = await services.channels.create(owner, "Staff Room", "private")
    token = await services.channels.invite(owner, staff.id)
    for member in (friend, pupil):
        await services.channels.accept_invite(member, token)
    for n in range(1, MESSAGES + 1):
        author = (owner, friend, pupil)[n % 3]
        await services.messages.post_text(author, staff.id, f"staff note {n}")

    page = await logged_in(browser, contexts, served, "owner", SIZES[size])
    page.on("dialog", _accept)
    await page.goto(f"{served}/chat/{staff.id}")
    await page.locator(".message[data-handle=friend]:not(.continued) .author").last.click()
    card = page.locator("dialog.person-card")
    remove = card.get_by_role("button", name="Remove from this channel")
    await expect(remove).to_be_visible()
    await remove.click()
    await expect(page.locator(".history-start a")).to_have_text(
        "Earlier messages, before a member was removed"
    )
    successor = page.url.rsplit("/", 1)[1]
    assert successor != staff.id
    await expect(page.locator(".conversation-head h1")).to_have_text("Staff Room")
    assert await page.locator(".sidebar a", has_text="Staff Room").count() == 1
    await page.fill(".composer textarea", "the rota for next week")
    await page.press(".composer textarea", "Enter")
    await expect(page.locator(".message", has_text="the rota")).to_be_visible()
    assert await in_view(page, page.locator(".composer textarea"))
    assert not await page_scrolls(page)
    await page.screenshot(path=ARTIFACTS / f"removal-{size}.png")

    # The pupil, who stays, reads it; the old channel points on to the new one.
    stays = await logged_in(browser, contexts, served, "pupil", SIZES[size])
    await stays.goto(f"{served}/chat/{staff.id}")
    onward = stays.locator(".cannot-post a", has_text="Write in it")
    await expect(onward).to_be_visible()
    await onward.click()
    await expect(stays.locator(".message", has_text="the rota")).to_be_visible()

    # The friend is told, keeps what came before, and cannot open what came after.
    gone = await logged_in(browser, contexts, served, "friend", SIZES[size])
    await gone.goto(f"{served}/chat/{staff.id}")
    told = gone.locator(".cannot-post")
    await expect(told).to_have_text(
        "A moderator removed you from this channel. You can read what was written before."
    )
    assert await in_view(gone, told)
    await expect(gone.locator(".message", has_text=f"staff note {MESSAGES}")).to_be_visible()
    answer = await gone.evaluate(
        "async (id) => (await fetch(`/api/v1/channels/${id}/messages`)).status", successor
    )
    assert answer == 404


async def _accept(dialog: Dialog) -> None:
    await dialog.accept()
