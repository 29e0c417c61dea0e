"""The chat screen as a person sees it, with a channel as long as real ones get.

Headless Chromium (Debian's) on the real node: 500 messages, phone and desktop sizes,
light and dark. Every check is about what is in the viewport, not only in the DOM.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from chatbox.daemon import Node
from chatbox.devstack import free_port
from chatbox.domain.channels import Channel
from chatbox.services.accounts import Member
from tests.web.conftest import ARTIFACTS, png, serving
from tests.web.pages import fill_and_submit, logged_in, new_page

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
MESSAGES = 500
MAX_ROWS = 300  # app.js keeps at most this many message rows in the page
AXE = (
    Path(__file__).resolve().parents[2]
    / "scripts/devstack/browser/node_modules/axe-core/axe.min.js"
)


@dataclass
class LongChannel:
    node: Node
    owner: Member
    friend: Member
    channel: Channel
    other: Channel  # a second channel both belong to


@pytest.fixture
async def long_channel(node: Node) -> LongChannel:
    services = node.services
    owner = await services.accounts.register("owner", "owner password", is_admin=True)
    friend = await services.accounts.register("friend", "friend password")
    channel = await services.channels.create(owner, "general", "public")
    other = await services.channels.create(owner, "random", "public")
    for joined in (channel, other):
        await services.channels.join_public(friend, joined.id)
    for n in range(1, MESSAGES + 1):
        author = owner if (n // 3) % 2 else friend  # runs of three by one author
        await services.messages.post_text(author, channel.id, f"message {n} of the long channel")
    return LongChannel(node, owner, friend, channel, other)


@pytest.fixture
async def contexts(browser: Browser) -> AsyncIterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        await context.close()


IN_VIEW = """(node) => {
  const box = node.getBoundingClientRect();
  const list = node.closest('.messages');
  const frame = list ? list.getBoundingClientRect() : {top: 0, bottom: innerHeight};
  return box.height > 0 && box.top >= Math.max(0, frame.top) - 1
    && box.bottom <= Math.min(innerHeight, frame.bottom) + 1
    && box.left >= 0 && box.right <= innerWidth + 1;
}"""


async def in_view(page: Page, locator: Locator) -> bool:
    """Wholly inside the window and inside the message list's visible part, if within it."""
    return bool(await locator.evaluate(IN_VIEW))


async def comes_into_view(page: Page, locator: Locator, timeout_ms: float = 2000) -> bool:
    """In view by the time a person would look: the page may scroll in its next frame.

    The locator is asked afresh each frame, not held as one element: a row is redrawn
    when the live stream brings the message the page already drew from its own post.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        if await locator.count() and await in_view(page, locator):
            return True
        if time.monotonic() > deadline:
            return False
        await page.evaluate("new Promise((done) => requestAnimationFrame(() => done()))")


async def page_scrolls(page: Page) -> bool:
    return bool(
        await page.evaluate(
            "document.scrollingElement.scrollHeight > innerHeight + 1"
            " || document.scrollingElement.scrollWidth > innerWidth + 1"
        )
    )


def row(page: Page, n: int) -> Locator:
    return page.locator(".message", has_text=f"message {n} of the long channel").last


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_a_long_channel_opens_at_its_newest_message_with_the_composer_on_screen(
    size: str, long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    page = await logged_in(browser, contexts, served, "friend", SIZES[size])
    await page.goto(f"{served}/chat/{long_channel.channel.id}")
    newest = row(page, MESSAGES)
    await expect(newest).to_be_visible()
    assert await in_view(page, newest), "the newest message is off screen"
    composer = page.locator(".composer textarea")
    assert await in_view(page, composer), "the message box is off screen"
    assert not await page_scrolls(page), "the page itself scrolls"
    header = await page.locator("header.top").bounding_box()
    assert header is not None and header["height"] <= 56, "the header takes more than one line"
    await page.screenshot(path=ARTIFACTS / f"chat-long-{size}.png")

    # A long text grows the message box over the list; the newest message stays in view.
    await page.fill(".composer textarea", "\n".join(f"line {n} of a long text" for n in range(8)))
    assert await comes_into_view(page, newest), "a growing message box hid the newest message"
    assert (await composer.bounding_box() or {"height": 0})["height"] > 100

    # What this person sends arrives in view, and the box stays on screen.
    await page.fill(".composer textarea", "my answer, **in bold**, see https://example.org")
    await page.press(".composer textarea", "Enter")
    mine = page.locator(".message", has_text="my answer")
    await expect(mine).to_be_visible()
    assert await comes_into_view(page, mine) and await in_view(page, composer)
    await expect(mine.locator(".text strong")).to_have_text("in bold")
    link = mine.locator(".text a")
    assert await link.get_attribute("target") == "_blank"
    assert await link.get_attribute("rel") == "noopener noreferrer nofollow"

    # A message from someone else arrives live, in view, while the reader is at the end.
    services = long_channel.node.services
    await services.messages.post_text(long_channel.owner, long_channel.channel.id, "live hello")
    live = page.locator(".message", has_text="live hello")
    await expect(live).to_be_visible()
    assert await comes_into_view(page, live)
    assert not await page_scrolls(page)


async def test_scrolling_back_reaches_the_first_message_without_losing_the_place(
    long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    page = await logged_in(browser, contexts, served, "friend", DESKTOP)
    await page.goto(f"{served}/chat/{long_channel.channel.id}")
    await expect(row(page, MESSAGES)).to_be_visible()
    first_loaded = int(await page.locator(".message").count())
    assert first_loaded < MESSAGES  # the page holds the newest page only

    # Scroll to the top once: an older page loads above, and the row that was first
    # stays where the reader saw it.
    oldest_shown = page.locator(".message").first
    text = await oldest_shown.locator(".text").text_content()
    await page.eval_on_selector(".messages", "list => { list.scrollTop = 0; }")
    await expect(page.locator(".message")).not_to_have_count(first_loaded)
    anchor = page.locator(".message", has_text=str(text)).first
    top = await anchor.evaluate("node => node.getBoundingClientRect().top")
    list_top = await page.eval_on_selector(".messages", "l => l.getBoundingClientRect().top")
    assert top - list_top < 700, "the view jumped away from where the reader was"

    most = 0
    for _ in range(60):
        most = max(most, await page.locator(".message").count())
        if await page.locator(".history-start").is_visible():
            break
        await page.eval_on_selector(".messages", "list => { list.scrollTop = 0; }")
        await asyncio.sleep(0.15)
    await expect(page.locator(".history-start")).to_be_visible()
    first = row(page, 1)
    await first.scroll_into_view_if_needed()
    assert await in_view(page, first)
    # However far back, the page holds a bounded number of rows.
    assert most <= MAX_ROWS and await page.locator(".message").count() <= MAX_ROWS
    assert await row(page, MESSAGES).count() == 0  # the newest were let go meanwhile
    assert not await page_scrolls(page)

    # Far back, a new message does not move the view: a marker says it came, and takes
    # the reader to the newest.
    services = long_channel.node.services
    await services.messages.post_text(long_channel.owner, long_channel.channel.id, "while away")
    marker = page.locator(".new-messages")
    await expect(marker).to_be_visible()
    assert await in_view(page, first)
    await marker.click()
    await expect(marker).to_be_hidden()
    away = page.locator(".message", has_text="while away")
    await expect(away).to_be_visible()
    assert await in_view(page, away) and await in_view(page, row(page, MESSAGES))

    # Scrolling down from the start pages the newer messages back in, in order.
    await page.goto(f"{served}/chat/{long_channel.channel.id}")
    await expect(row(page, MESSAGES)).to_be_visible()
    for _ in range(60):
        if await page.locator(".history-start").is_visible():
            break
        await page.eval_on_selector(".messages", "list => { list.scrollTop = 0; }")
        await asyncio.sleep(0.15)
    for _ in range(60):
        if await row(page, MESSAGES).count():
            break
        await page.eval_on_selector(".messages", "list => { list.scrollTop = list.scrollHeight; }")
        await asyncio.sleep(0.15)
        assert await page.locator(".message").count() <= MAX_ROWS
    texts = await page.locator(".message .text").all_text_contents()
    numbers = [int(t.split()[1]) for t in texts if t.startswith("message ")]
    assert numbers == sorted(numbers) and numbers[-1] == MESSAGES
    assert numbers == list(range(numbers[0], MESSAGES + 1))  # nothing lost on the way


async def test_rows_group_by_author_and_name_people_once(
    long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    page = await logged_in(browser, contexts, served, "friend", DESKTOP)
    await page.goto(f"{served}/chat/{long_channel.channel.id}")
    await expect(row(page, MESSAGES)).to_be_visible()
    # Runs of three by one author: the first of each shows the name, the others do not.
    heads = page.locator(".message:not(.continued)")
    rows = page.locator(".message")
    shown, total = await heads.count(), await rows.count()
    assert total // 3 - 1 <= shown <= total // 3 + 2
    assert await page.locator(".message.continued .author").first.is_hidden()
    assert await page.locator(".message .fingerprint").count() == 0  # on the card instead
    assert await page.locator(".day").count() == 1
    await expect(page.locator(".day")).to_have_text("Today")
    # Messages 498 to 500 are the friend's: initials drawn from the name.
    await expect(page.locator(".message:not(.continued) .avatar").last).to_have_text("F")

    # The name opens the person's card, with their key's fingerprint.
    await page.locator(".message:not(.continued) .author").last.click()
    card = page.locator("dialog.person-card")
    await expect(card).to_be_visible()
    await expect(card.locator("#person-name")).to_have_text("friend")
    fingerprint = await card.locator(".fingerprint").text_content()
    assert fingerprint and len(fingerprint.replace(" ", "")) >= 16
    await page.keyboard.press("Escape")
    await expect(card).to_be_hidden()


async def test_a_grouped_message_shows_its_time_on_hover_and_a_held_finger_the_full_time(
    long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    desktop = await logged_in(browser, contexts, served, "friend", DESKTOP)
    await desktop.goto(f"{served}/chat/{long_channel.channel.id}")
    grouped = desktop.locator(".message.continued").last
    await expect(grouped).to_be_visible()
    time = grouped.locator("time")
    await expect(time).to_be_hidden()
    await grouped.hover()
    await expect(time).to_be_visible()
    assert await in_view(desktop, time)

    # On a touch screen: hold a finger on a message for a moment, as a phone's user does.
    phone = await logged_in(browser, contexts, served, "friend", PHONE, has_touch=True)
    await phone.goto(f"{served}/chat/{long_channel.channel.id}")
    held = phone.locator(".message.continued").last
    await expect(held).to_be_visible()
    full = await held.locator("time").get_attribute("title")
    assert full and len(full) > 12  # weekday, date and time with its zone
    box = await held.bounding_box()
    assert box is not None
    point = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}
    touch = await phone.context.new_cdp_session(phone)
    await touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]})
    await phone.wait_for_timeout(800)
    await touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    shown = held.locator("time.full")
    await expect(shown).to_have_text(full)
    assert await in_view(phone, shown) and await in_view(phone, held)
    await phone.screenshot(path=ARTIFACTS / "chat-long-press-phone.png")
    # A short tap elsewhere puts the short time back.
    await phone.locator(".message").nth(-10).tap()
    await expect(held.locator("time.full")).to_have_count(0)


async def test_unread_counts_and_title_change_live_and_a_mention_notifies(
    long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    page = await logged_in(
        browser, contexts, served, "friend", DESKTOP, permissions=["notifications"]
    )
    # The browser's own Notification, with the permission this context granted; the
    # subclass only records what the page shows, since headless Chromium has no screen.
    await page.add_init_script(
        """window.shown = [];
           window.Notification = class extends window.Notification {
             constructor(title, options) {
               super(title, options);
               window.shown.push([title, options.body]);
             }
           };"""
    )
    await page.goto(f"{served}/chat/{long_channel.channel.id}")
    await expect(row(page, MESSAGES)).to_be_visible()
    badge = page.locator(f".channels a[data-channel-id='{long_channel.other.id}'] .unread")
    await expect(badge).to_be_hidden()
    title = await page.title()

    services = long_channel.node.services
    for n in range(3):
        await services.messages.post_text(long_channel.owner, long_channel.other.id, f"other {n}")
    await expect(badge).to_be_visible()
    await expect(badge.locator(".count")).to_have_text("3")
    await expect(page).to_have_title(f"(3) {title}")

    asked = await services.messages.post_text(
        long_channel.owner, long_channel.other.id, "@friend can you look at this?"
    )
    await expect(badge.locator(".count")).to_have_text("4")
    await _notified(page)
    shown = await page.evaluate("window.shown")
    assert shown == [["owner mentioned you in random", "@friend can you look at this?"]]

    # What is said about a message (a reaction, an edit) is neither counted nor announced
    # again; a reply to the person is both.
    await services.messages.react(long_channel.owner, asked.cid, "👀", True)
    await services.messages.edit(long_channel.owner, asked.cid, "@friend can you look at it?")
    friends = await services.messages.post_text(
        long_channel.friend, long_channel.other.id, "which one?"
    )
    await services.messages.post_text(
        long_channel.owner, long_channel.other.id, "the printer", friends.cid
    )
    await expect(badge.locator(".count")).to_have_text("5")
    await page.wait_for_timeout(300)  # a repeated notification would have come by now
    shown = await page.evaluate("window.shown")
    assert shown[1:] == [["owner replied to you in random", "the printer"]]
    await page.reload()  # the box counts the same
    await expect(badge.locator(".count")).to_have_text("5")

    # In the open channel the mention is highlighted for the one it names.
    await services.messages.post_text(
        long_channel.owner, long_channel.channel.id, "thanks @friend and @nobody"
    )
    mention = page.locator(".message", has_text="thanks").locator(".mention.me")
    await expect(mention).to_have_text("@friend")
    assert await page.locator(".message", has_text="thanks").locator(".mention").count() == 2


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_a_muted_channel_stays_quiet_except_for_a_mention(
    size: str, long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    page = await logged_in(
        browser, contexts, served, "friend", SIZES[size], permissions=["notifications"]
    )
    await page.add_init_script(  # records what the page shows, as in the test above
        """window.shown = [];
           window.Notification = class extends window.Notification {
             constructor(title, options) { super(title, options); window.shown.push(title); }
           };"""
    )
    await page.goto(f"{served}/chat/{long_channel.other.id}")
    mute = page.get_by_role("button", name="Mute", exact=True)
    assert await in_view(page, mute)
    await mute.click()
    unmute = page.get_by_role("button", name="Unmute", exact=True)
    await expect(unmute).to_be_visible()
    await page.reload()  # the choice is kept by the box
    await expect(unmute).to_be_visible()

    await page.goto(f"{served}/chat/{long_channel.channel.id}")
    await expect(row(page, MESSAGES)).to_be_visible()
    link = page.locator(f".channels a[data-channel-id='{long_channel.other.id}']")
    if size == "desktop":  # a phone shows the channel list only without a channel open
        await expect(link.locator(".muted-mark")).to_be_visible()
    title = await page.title()
    services = long_channel.node.services
    for n in range(3):
        await services.messages.post_text(long_channel.owner, long_channel.other.id, f"quiet {n}")
    # A mention still reaches the person it names; the rest is neither counted nor shown.
    await services.messages.post_text(
        long_channel.owner, long_channel.other.id, "@friend this one is for you"
    )
    await _notified(page)
    assert await page.evaluate("window.shown") == ["owner mentioned you in random"]
    await expect(link.locator(".unread")).to_be_hidden()
    assert await page.title() == title
    await page.goto(served + "/chat")
    await expect(link.locator(".unread")).to_be_hidden()
    await expect(link.locator(".muted-mark")).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_every_page_has_no_accessibility_violations(
    scheme: str,
    size: str,
    long_channel: LongChannel,
    served: str,
    browser: Browser,
    contexts: list[Any],
) -> None:
    page = await logged_in(
        browser, contexts, served, "owner", SIZES[size], color_scheme=scheme, bypass_csp=True
    )
    channel = f"/chat/{long_channel.channel.id}"
    pages = (channel, "/chat", "/directory", "/people", "/status", "/admin", "/search?q=of")
    for path in pages:
        await page.goto(served + path)
        if path == channel:
            await expect(row(page, MESSAGES)).to_be_visible()
        background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert _dark(background) == (scheme == "dark"), f"{path} is not {scheme}"
        violations = await _axe(page)
        assert violations == [], f"{path} at {size} in {scheme}: {violations}"
        if path == "/status":  # and the technical report behind its disclosure
            await page.click(".status-details summary")
            violations = await _axe(page)
            assert violations == [], f"status details at {size} in {scheme}: {violations}"
        name = "channel" if path == channel else path.strip("/").split("?")[0]
        await page.screenshot(path=ARTIFACTS / f"page-{name}-{size}-{scheme}.png")
    await page.context.clear_cookies()
    for path in ("/login", "/signup", "/reset", "/offline"):
        await page.goto(served + path)
        violations = await _axe(page)
        assert violations == [], f"{path} at {size} in {scheme}: {violations}"


async def test_the_theme_toggle_overrides_the_system_and_is_remembered(
    long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    page = await logged_in(browser, contexts, served, "friend", PHONE, color_scheme="light")
    await page.goto(f"{served}/chat/{long_channel.channel.id}")
    menu = page.locator(".menu-button")
    await menu.click()
    await expect(menu).to_have_attribute("aria-expanded", "true")
    await page.get_by_role("button", name="Dark theme").click()
    assert _dark(await page.evaluate("getComputedStyle(document.body).backgroundColor"))
    await page.reload()
    assert _dark(await page.evaluate("getComputedStyle(document.body).backgroundColor"))
    await page.screenshot(path=ARTIFACTS / "chat-long-phone-dark-chosen.png")


async def test_the_keyboard_alone_logs_in_switches_channel_sends_and_attaches(
    long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    page = await new_page(browser, contexts, DESKTOP)
    await page.goto(served + "/login")
    await page.keyboard.press("Tab")  # the skip link comes first
    assert await page.evaluate("document.activeElement.className") == "skip"
    await _tab_to(page, "input[name=name]")
    await page.keyboard.type("friend")
    await page.keyboard.press("Tab")
    await page.keyboard.type("friend password")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(served + "/chat")

    await _tab_to(page, f".channels a[data-channel-id='{long_channel.channel.id}']")
    await page.keyboard.press("Enter")
    await expect(row(page, MESSAGES)).to_be_visible()

    # Past 500 messages, the composer is as few Tabs away as with none: the list is one stop.
    stops_in_list = []
    presses = await _tab_to(page, ".composer textarea", visited=stops_in_list)
    assert stops_in_list == ["messages"], stops_in_list
    assert presses <= 20, f"{presses} Tabs to reach the message box"
    await page.keyboard.type("typed with the keyboard only")
    await page.keyboard.press("Enter")
    await expect(page.locator(".message", has_text="typed with the keyboard only")).to_be_visible()

    # Inside the list, arrow keys move from message to message.
    await page.focus(".messages")
    await page.keyboard.press("ArrowUp")
    focused = await page.evaluate("document.activeElement.textContent")
    assert "typed with the keyboard only" in focused
    await page.keyboard.press("ArrowUp")
    focused = await page.evaluate("document.activeElement.textContent")
    assert f"message {MESSAGES} of the long channel" in focused

    # The attach button is reachable, and Enter on it opens the file input.
    await page.focus(".composer textarea")
    await page.keyboard.press("Shift+Tab")
    assert await page.evaluate("document.activeElement.dataset.action") == "attach"
    # Enter asks the file input for its chooser (whether Chromium then shows one headless
    # under load varies; asking is the page's part).
    await page.evaluate(
        """window.asked = 0; document.querySelector('.composer input[type=file]')
             .addEventListener('click', () => { window.asked += 1; });"""
    )
    await page.keyboard.press("Enter")
    await page.wait_for_function("window.asked === 1")


async def _tab_to(
    page: Page, selector: str, limit: int = 60, visited: list[str] | None = None
) -> int:
    """Press Tab until ``selector`` has the focus; ``visited`` collects the stops inside the
    message list (by class)."""
    for presses in range(1, limit + 1):
        await page.keyboard.press("Tab")
        inside = await page.evaluate(
            "document.activeElement.closest('.messages') ? document.activeElement.className : ''"
        )
        if inside and visited is not None:
            visited.append(inside)
        if await page.evaluate(f"document.activeElement.matches({selector!r})"):
            return presses
    pytest.fail(f"{selector} not reached in {limit} Tabs")


async def _notified(page: Page) -> None:
    """Until the page has shown a notification (recorded in ``window.shown``), for up to
    5 s; polled from here, since the page's CSP forbids evaluating a string in it."""
    for _ in range(50):
        if await page.evaluate("window.shown.length"):
            return
        await page.wait_for_timeout(100)


async def _axe(page: Page) -> list[str]:
    await page.add_script_tag(path=str(AXE))
    found = await page.evaluate(
        """async () => {
          const result = await axe.run(document, {resultTypes: ['violations']});
          return result.violations.map(v => `${v.id} (${v.impact}): `
            + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
        }"""
    )
    return list(found)


def _dark(css_colour: str) -> bool:
    red, green, blue = (
        int(part) for part in css_colour[css_colour.index("(") + 1 : -1].split(",")[:3]
    )
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255 < 0.3


async def test_files_dropped_or_pasted_are_sent_and_a_picture_opens_large(
    long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    page = await logged_in(browser, contexts, served, "friend", PHONE)
    await page.goto(f"{served}/chat/{long_channel.channel.id}")
    await expect(row(page, MESSAGES)).to_be_visible()
    picture = list(png(64, 48))
    # A file dragged from the desktop onto the conversation.
    await page.evaluate(
        """(bytes) => {
          const data = new DataTransfer();
          data.items.add(new File([new Uint8Array(bytes)], 'dropped.png', {type: 'image/png'}));
          const zone = document.querySelector('.conversation');
          zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: data, bubbles: true,
                                                         cancelable: true}));
          zone.dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true,
                                                     cancelable: true}));
        }""",
        picture,
    )
    dropped = page.locator(".message img[alt='dropped.png']")
    await expect(dropped).to_be_visible()
    assert await comes_into_view(page, dropped)
    # A file pasted into the message box.
    await page.evaluate(
        """() => {
          const data = new DataTransfer();
          data.items.add(new File(['some notes'], 'notes.txt', {type: 'text/plain'}));
          document.querySelector('.composer textarea').dispatchEvent(
            new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
        }"""
    )
    pasted = page.locator(".message .file", has_text="notes.txt")
    await expect(pasted).to_be_visible()
    assert await comes_into_view(page, pasted)
    assert await page.locator(".composer textarea").input_value() == ""

    await dropped.click()
    large = page.locator("dialog.lightbox img")
    await expect(large).to_be_visible()
    assert await large.evaluate("i => i.complete && i.naturalWidth") == 64
    await page.screenshot(path=ARTIFACTS / "chat-lightbox-phone.png")
    await page.keyboard.press("Escape")
    await expect(large).to_be_hidden()


async def test_a_lost_connection_says_so_in_plain_words_and_clears_when_the_box_is_back(
    long_channel: LongChannel, app: Any, browser: Browser, contexts: list[Any]
) -> None:
    port = free_port()
    async with serving(app, port) as base:
        page = await logged_in(browser, contexts, base, "friend", DESKTOP)
        await page.goto(f"{base}/chat/{long_channel.channel.id}")
        await expect(row(page, MESSAGES)).to_be_visible()
        banner = page.locator(".connection")
        await expect(banner).to_be_hidden()
    # The box is gone: the stream drops, and sending says why and keeps the text.
    await expect(banner).to_have_text("Connection to the box lost. Reconnecting by itself…")
    assert await in_view(page, banner)
    await page.fill(".composer textarea", "written while the box was away")
    await page.press(".composer textarea", "Enter")
    notice = page.locator(".notice")
    await expect(notice).to_contain_text("The box cannot be reached right now")
    assert "Failed to fetch" not in str(await notice.text_content())
    assert await page.locator(".composer textarea").input_value() == (
        "written while the box was away"
    )
    async with serving(app, port):
        await expect(banner).to_be_hidden(timeout=15_000)
        # What came while the page was cut off is there once it is back.
        await long_channel.node.services.messages.post_text(
            long_channel.owner, long_channel.channel.id, "after the break"
        )
        await expect(page.locator(".message", has_text="after the break")).to_be_visible()


async def test_the_admin_page_gives_a_member_a_code_to_set_a_new_password(
    long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    owner = await logged_in(browser, contexts, served, "owner", PHONE)
    await owner.goto(served + "/admin")
    await owner.fill(".reset-code [name=name]", "friend")
    await owner.click(".reset-code button[type=submit]")
    shown = owner.locator(".reset-code .form-result")
    await expect(shown).to_be_visible()
    assert await in_view(owner, shown)
    code = str(await shown.text_content())
    await owner.screenshot(path=ARTIFACTS / "admin-reset-code-phone.png")

    friend = await new_page(browser, contexts, PHONE)
    await friend.goto(served + "/login")
    await friend.click("text=set a new one")
    await fill_and_submit(friend, name="friend", code=code, password="a brand new password")
    await expect(friend).to_have_url(served + "/chat")
    await expect(friend.locator(".channels")).to_contain_text("general")


async def test_a_login_name_with_a_space_is_refused_in_words_that_say_why(
    long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    page = await new_page(browser, contexts, PHONE)
    await page.goto(served + "/signup")
    await fill_and_submit(page, name="Ms Smith", password="a long password")
    message = await page.eval_on_selector("[name=name]", "field => field.validationMessage")
    assert "no spaces" in message and "ms.smith" in message
    await expect(page.locator("#name-rule")).to_be_visible()
    await page.fill("[name=name]", "ms.smith")
    assert await page.eval_on_selector("[name=name]", "field => field.validity.valid")


async def test_installable_with_a_manifest_and_icons_and_an_offline_page_when_the_box_is_gone(
    long_channel: LongChannel, app: Any, browser: Browser, contexts: list[Any]
) -> None:
    port = free_port()
    async with serving(app, port) as base:
        page = await logged_in(browser, contexts, base, "friend", PHONE)
        await page.goto(f"{base}/chat/{long_channel.channel.id}")
        await page.evaluate("navigator.serviceWorker.ready")
        await page.reload()
        assert await page.evaluate("Boolean(navigator.serviceWorker.controller)")
        link = await page.get_attribute("link[rel=manifest]", "href")
        manifest = await page.evaluate(f"fetch({link!r}).then(r => r.json())")
        assert manifest["display"] == "standalone" and manifest["start_url"] == "/chat"
        assert manifest["name"] == "testbox · chatbox"
        for icon in manifest["icons"]:
            if icon["type"] != "image/png":
                continue
            width = await page.evaluate(
                """(src) => new Promise((done) => { const i = new Image();
                     i.onload = () => done(i.naturalWidth); i.onerror = () => done(0);
                     i.src = src; })""",
                icon["src"],
            )
            assert f"{width}x{width}" == icon["sizes"]
        favicon = await page.get_attribute("link[rel=icon]", "href")
        assert favicon and favicon.endswith(".svg")
    # The box is gone: a page opened now says so in plain words, with its styles.
    await page.goto(f"{base}/people")
    await expect(page.locator("h1")).to_have_text("The box cannot be reached")
    corners = await page.evaluate("getComputedStyle(document.querySelector('.card')).borderRadius")
    assert corners != "0px"  # the kept stylesheet applies
    await page.screenshot(path=ARTIFACTS / "offline-phone.png")
    async with serving(app, port):
        await page.click("text=Try again")
        await expect(page.locator(".channels")).to_contain_text("general")


async def test_after_set_up_the_owner_sees_what_to_do_and_invites_with_a_link(
    node: Node, served: str, browser: Browser, contexts: list[Any]
) -> None:
    owner = await new_page(browser, contexts, PHONE)
    await owner.goto(served + "/setup")
    await fill_and_submit(owner, name="owner", password="owner password")
    await expect(owner).to_have_url(served + "/chat")
    welcome = owner.locator(".welcome")
    await expect(welcome).to_be_visible()
    await expect(welcome.locator("a", has_text="#general")).to_be_visible()
    await owner.screenshot(path=ARTIFACTS / "welcome-phone.png", full_page=True)

    await welcome.locator("a", has_text="Invite people").click()
    await owner.check("input[value=invite]")
    await owner.click("form[data-api='/api/v1/admin/registration'] button[type=submit]")
    await owner.click("[data-action=new-code]")
    link_field = owner.locator(".new-link")
    await expect(link_field).to_be_visible()
    link = await link_field.input_value()
    assert link.startswith(served + "/signup?code=")
    qr = owner.locator(".new-qr svg")
    await expect(qr).to_be_visible()
    assert (await qr.bounding_box() or {"width": 0})["width"] >= 120
    await owner.screenshot(path=ARTIFACTS / "invite-link-phone.png", full_page=True)

    guest = await new_page(browser, contexts, PHONE)
    await guest.goto(link)
    code = await guest.locator("[name=code]").input_value()
    assert code and code in link
    await fill_and_submit(guest, name="ms.smith", password="her password")
    await expect(guest).to_have_url(served + "/chat")
    await expect(guest.locator(".channels")).to_contain_text("general")
    await expect(guest.locator(".welcome")).to_have_count(0)  # for the owner only
    await owner.goto(served + "/chat")
    await expect(owner.locator(".welcome")).to_have_count(0)  # someone joined


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_a_person_chooses_the_name_others_see_and_keeps_their_login_name(
    long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any], size: str
) -> None:
    page = await logged_in(browser, contexts, served, "friend", SIZES[size])
    await page.goto(served + "/people")
    await fill_and_submit(page, display_name="  Zoë   Ó Briain ")
    saved = page.locator("form.profile .form-result.done")
    await expect(saved).to_have_text("Saved: others see you by this name now.")
    assert await in_view(page, saved)
    # The People list shows the new name at once, then after a reload as stored.
    own = page.locator(".people li.me")
    await expect(own.locator(".author")).to_have_text("Zoë Ó Briain")
    await expect(own.locator(".handle")).to_have_text("@friend")
    await page.reload()
    await expect(page.locator("[name=display_name]")).to_have_value("Zoë Ó Briain")
    await expect(page.locator(".people li", has_text="Zoë Ó Briain")).to_contain_text("@friend")

    # The owner, in another browser, sees the friend's messages under the new name.
    owner = await logged_in(browser, contexts, served, "owner", SIZES[size])
    await owner.goto(f"{served}/chat/{long_channel.channel.id}")
    head = owner.locator(".message:not(.continued)").last
    await expect(head.locator(".author")).to_have_text("Zoë Ó Briain")
    await expect(head.locator(".avatar")).to_have_text("ZÓ")
    await head.locator(".author").click()
    card = owner.locator("dialog.person-card")
    await expect(card.locator("#person-name")).to_have_text("Zoë Ó Briain")
    await expect(card.locator(".person-box")).to_have_text("@friend · on this box")
    await owner.screenshot(path=ARTIFACTS / f"display-name-{size}.png")

    # Control characters are refused in words, and the name stays.
    await page.fill("[name=display_name]", "Zoë\u202e")
    await page.click("form.profile button[type=submit]")
    await expect(page.locator("form.profile .form-error")).to_contain_text("control or formatting")
    await expect(saved).to_be_hidden()


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_a_browser_set_to_german_gets_the_box_in_german_until_the_person_picks_english(
    size: str, long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    page = await new_page(browser, contexts, SIZES[size], locale="de-DE", bypass_csp=True)
    await page.goto(served + "/login")
    await expect(page.locator("html")).to_have_attribute("lang", "de")
    await expect(page.locator("h1")).to_contain_text("anmelden")
    await page.get_by_label("Name").fill("friend")
    await page.get_by_label("Passwort").fill("friend password")
    await page.get_by_role("button", name="Anmelden").click()
    await expect(page).to_have_url(served + "/chat")

    # What the box renders and what the page's script writes, both in German.
    await page.goto(f"{served}/chat/{long_channel.channel.id}")
    await expect(row(page, MESSAGES)).to_be_visible()
    composer = page.locator(".composer textarea")
    await expect(composer).to_have_attribute("placeholder", "Nachricht an general")
    assert await in_view(page, composer)
    today = page.locator(".messages .day").last
    await expect(today).to_have_text("Heute")
    assert await in_view(page, today) or await in_view(page, row(page, MESSAGES))
    weekday = await page.evaluate("new Date().toLocaleDateString('de-DE', {weekday: 'long'})")
    assert weekday in (await row(page, MESSAGES).locator("time").get_attribute("title") or "")
    assert await _axe(page) == [], "the German chat has accessibility violations"
    await page.screenshot(path=ARTIFACTS / f"german-chat-{size}.png")

    # A refusal from the box comes in German too.
    await page.goto(served + "/chat")
    new_channel = page.locator("details.new-channel-box")
    if not await new_channel.get_attribute("open"):
        await new_channel.locator("summary").click()
    await new_channel.get_by_label("Name").fill("-no")
    await new_channel.get_by_role("button", name="Erstellen").click()
    refusal = new_channel.locator(".form-error")
    await expect(refusal).to_contain_text("Ein Kanalname darf Buchstaben")
    assert await in_view(page, refusal)

    # The person picks English on this device; it holds from page to page.
    if size == "phone":
        await page.get_by_role("button", name="Menü").click()
    menu = page.get_by_label("Sprache")
    assert await in_view(page, menu)
    await menu.select_option("en")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("h1")).to_have_text("Your channels")
    await page.goto(f"{served}/chat/{long_channel.channel.id}")
    await expect(composer).to_have_attribute("placeholder", "Message general")
    await expect(page.locator(".messages .day").last).to_have_text("Today")


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_the_admin_switches_a_member_off_then_on_limits_public_channels_and_removes_them(
    size: str, long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    admin = await logged_in(browser, contexts, served, "owner", SIZES[size])
    friend = await logged_in(browser, contexts, served, "friend", SIZES[size])
    await friend.goto(f"{served}/chat/{long_channel.channel.id}")
    await expect(row(friend, MESSAGES)).to_be_visible()
    await admin.goto(served + "/admin#accounts")
    account = admin.locator("ul.accounts li[data-name=friend]")
    await expect(account).to_contain_text("@friend")
    await expect(admin.locator("ul.accounts li[data-name=owner]")).to_contain_text("(you)")
    await account.get_by_role("button", name="Switch off").click()
    await expect(account.locator(".account-state")).to_have_text("switched off")
    await account.scroll_into_view_if_needed()
    assert await in_view(admin, account)
    # The friend's open page says so by itself, not "reconnecting" for ever.
    banner = friend.locator(".connection")
    await expect(banner).to_contain_text("You are no longer logged in.")
    assert await in_view(friend, banner)
    await expect(banner.get_by_role("link", name="Log in again")).to_be_visible()

    # The friend's next step finds them logged out, and logging in says why in words.
    await friend.goto(f"{served}/chat/{long_channel.channel.id}")
    await expect(friend).to_have_url(re.compile(r"/login"))
    await fill_and_submit(friend, name="friend", password="friend password")
    refusal = friend.locator(".form-error")
    await expect(refusal).to_have_text("An admin of this box has switched this account off")
    assert await in_view(friend, refusal)

    # Only admins make public channels from now on.
    policy = admin.locator("form[data-api='/api/v1/admin/public-channels']")
    await policy.get_by_label("only admins").check()
    await policy.get_by_role("button", name="Save").click()
    await expect(policy.locator(".form-result.done")).to_have_text("Saved.")

    # Switched on again, the friend gets in; their new channel can only be private.
    await account.get_by_role("button", name="Switch on").click()
    await expect(account.locator(".account-state")).to_have_count(0)
    await fill_and_submit(friend, name="friend", password="friend password")
    await expect(friend).to_have_url(f"{served}/chat/{long_channel.channel.id}")
    await friend.goto(served + "/chat")
    box = friend.locator("details.new-channel-box")
    if not await box.get_attribute("open"):
        await box.locator("summary").click()
    await expect(box.get_by_text("public channels are made by its admins")).to_be_visible()
    assert await box.locator("input[value=public]").count() == 0

    # Removing asks first; "Cancel" keeps the account, "OK" removes it for good.
    asked: list[str] = []
    answers = iter([False, True])
    replies: list[asyncio.Task[None]] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        reply = dialog.accept() if next(answers) else dialog.dismiss()
        replies.append(asyncio.ensure_future(reply))

    admin.on("dialog", answer)
    await account.get_by_role("button", name="Remove").click()
    for _ in range(50):  # the question arrives as an event once the click is handled
        if asked:
            break
        await admin.wait_for_timeout(100)
    assert len(asked) == 1
    await expect(account).to_have_count(1)
    await expect(account.get_by_role("button", name="Remove")).to_be_enabled()
    await account.get_by_role("button", name="Remove").click()
    await expect(account).to_have_count(0)
    assert "friend" in asked[0] and "for good" in asked[0]
    await admin.screenshot(path=ARTIFACTS / f"admin-accounts-{size}.png", full_page=True)

    # What the friend wrote is still in the channel under their name.
    await admin.goto(f"{served}/chat/{long_channel.channel.id}")
    heads = admin.locator(".message:not(.continued) .author", has_text="friend")
    await expect(heads.last).to_be_visible()


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_a_search_finds_an_old_message_and_opens_the_channel_there(
    size: str, long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    page = await logged_in(browser, contexts, served, "friend", SIZES[size])
    box = page.get_by_role("searchbox", name="Search messages")
    assert await in_view(page, box)
    await box.fill("Message 17 OF")
    await box.press("Enter")
    await expect(page.locator(".result-count")).to_have_text(
        "11 messages found for “Message 17 OF”"
    )
    results = page.locator("ol.results li")
    await expect(results.first).to_contain_text("message 179 of the long channel")
    oldest = results.filter(has_text="message 17 of the long channel")
    await expect(oldest.locator("mark")).to_have_text(["message", "17", "of"])
    await page.screenshot(path=ARTIFACTS / f"search-{size}.png")
    await oldest.locator("a").click()

    # The channel opens at message 17, marked, far from the newest: 483 messages later.
    found = row(page, 17)
    await expect(found).to_be_visible()
    assert await in_view(page, found)
    assert await found.evaluate("(node) => node.matches(':target')")
    await expect(found.locator(".author")).to_be_visible()  # who wrote it, even mid-group
    await page.screenshot(path=ARTIFACTS / f"search-opened-{size}.png")
    assert await page.locator(".message", has_text=f"message {MESSAGES} of").count() == 0
    assert not await page_scrolls(page)
    # Scrolling on brings the newer messages, up to the newest.
    for _ in range(40):
        if await row(page, MESSAGES).count():
            break
        await page.eval_on_selector(".messages", "list => { list.scrollTop = list.scrollHeight; }")
        await page.wait_for_timeout(150)
    await expect(row(page, MESSAGES)).to_be_visible()
    assert await page.locator(".message").count() <= MAX_ROWS


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_a_person_replies_in_a_thread_reacts_edits_and_deletes_in_a_long_channel(
    size: str, long_channel: LongChannel, served: str, browser: Browser, contexts: list[Any]
) -> None:
    services, channel = long_channel.node.services, long_channel.channel
    question = await services.messages.post_text(
        long_channel.owner, channel.id, "who brings the soldering irons?"
    )
    page = await logged_in(browser, contexts, served, "friend", SIZES[size])
    await page.goto(f"{served}/chat/{channel.id}")
    asked = page.locator(f"#m-{question.cid}")
    await expect(asked).to_be_visible()

    # Reply: the answer goes to the thread; the channel shows the count, the thread the answer.
    await asked.hover()
    await asked.locator(".tools [data-action=reply]").click()
    await expect(page.locator(".replying")).to_contain_text("Replying to owner")
    await page.fill(".composer textarea", "I will bring two")
    await page.press(".composer textarea", "Enter")
    count = asked.locator(".replies")
    await expect(count).to_have_text("1 reply")
    assert await comes_into_view(page, count), "the thread's count is off screen"
    assert await page.locator(".messages .message", has_text="I will bring two").count() == 0
    await count.click()
    thread = page.locator("dialog.thread-card")
    await expect(thread.locator(".message", has_text="I will bring two")).to_be_visible()
    await page.screenshot(path=ARTIFACTS / f"chat-thread-{size}.png")
    await thread.locator("button", has_text="Close").click()

    # React, and take it back with a second click.
    asked = page.locator(f"#m-{question.cid}")
    await asked.hover()
    await asked.locator(".tools [data-action=react]").click()
    reaction = page.locator(f"#m-{question.cid} .reaction")
    await expect(reaction).to_have_text("👍 1")
    assert await reaction.get_attribute("title") == "friend"
    await reaction.click()
    await expect(page.locator(f"#m-{question.cid} .reaction")).to_have_count(0)
    # Someone else's message offers no edit or delete.
    await page.locator(f"#m-{question.cid}").hover()
    await expect(page.locator(f"#m-{question.cid} [data-action=edit]")).to_be_hidden()
    await expect(page.locator(f"#m-{question.cid} [data-action=delete]")).to_be_hidden()

    # Edit and delete one's own message.
    await page.fill(".composer textarea", "see you at 5")
    await page.press(".composer textarea", "Enter")
    mine = page.locator(".message", has_text="see you at 5")
    await expect(mine).to_be_visible()
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept("see you at 6")))
    await mine.hover()
    await mine.locator("[data-action=edit]").click()
    edited = page.locator(".message", has_text="see you at 6")
    await expect(edited.locator(".edited")).to_have_text("(edited)")
    assert await comes_into_view(page, edited)
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await edited.hover()
    await edited.locator("[data-action=delete]").click()
    await expect(page.locator(".message", has_text="This message was deleted.")).to_be_visible()
    await expect(page.locator(".message", has_text="see you at 6")).to_have_count(0)
    await page.screenshot(path=ARTIFACTS / f"chat-deleted-{size}.png")
    # After a reload the page says the same: it is the box's state, not the script's.
    await page.reload()
    await expect(page.locator(".message", has_text="This message was deleted.")).to_be_visible()
    await expect(page.locator(f"#m-{question.cid} .replies")).to_have_text("1 reply")

    # One's own reply is deleted in its thread; the thread says so and the count goes.
    await page.locator(f"#m-{question.cid} .replies").click()
    thread = page.locator("dialog.thread-card")
    answer = thread.locator(".message", has_text="I will bring two")
    await expect(answer).to_be_visible()
    await expect(thread.locator(".message").first.locator(".tools")).to_have_count(0)
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await answer.hover()
    await answer.locator("[data-action=delete]").click()
    await expect(thread.locator(".message", has_text="This message was deleted.")).to_be_visible()
    await expect(thread.locator(".message", has_text="I will bring two")).to_have_count(0)
    await thread.locator("button", has_text="Close").click()
    await expect(page.locator(f"#m-{question.cid} .replies")).to_have_count(0)
