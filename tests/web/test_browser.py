"""The whole chat as people use it, in headless Chromium (Debian's) against the real node."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Page, expect

from tests.web.conftest import ARTIFACTS, png

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
HOSTILE = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click me</a>',
]


async def test_onboarding_public_and_private_channels_live_between_two_people(
    served: str, browser: Browser, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    owner_context = await browser.new_context(viewport=PHONE)
    guest_context = await browser.new_context(viewport=DESKTOP)
    owner, guest = await owner_context.new_page(), await guest_context.new_page()
    dialogs: list[str] = []
    for page in (owner, guest):
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))

    await owner.goto(served + "/")
    await expect(owner).to_have_url(served + "/setup")
    await owner.screenshot(path=ARTIFACTS / "onboarding-phone.png")
    await guest.goto(served + "/setup")
    await guest.screenshot(path=ARTIFACTS / "onboarding-desktop.png")
    await _submit(owner, "form", name="owner", password="owner password")
    await expect(owner).to_have_url(served + "/chat")
    # Set-up made #general, where the owner already is.
    await owner.click(".channels a:has-text('general')")
    await expect(owner.locator(".conversation-head h1")).to_contain_text("general")
    channel_url = owner.url

    # The owner lets people sign up, then a guest does, and starts in #general too.
    await owner.goto(served + "/admin")
    await owner.check("input[value=open]")
    await owner.click("form button[type=submit]")
    # Saved is said in the form's status line, not in the error's place and colour.
    saved = owner.locator("form .form-result.done").first
    await expect(saved).to_have_text("Saved.")
    await expect(saved).to_be_in_viewport()
    await expect(owner.locator("form .form-error").first).to_be_hidden()
    await guest.goto(served + "/signup")
    await _submit(guest, "form", name="guest", password="guest password")
    await expect(guest).to_have_url(served + "/chat")
    await guest.click(".channels a:has-text('general')")
    await expect(guest).to_have_url(channel_url)
    await owner.goto(channel_url)

    # A message typed by the owner arrives live at the guest, without a reload.
    await _say(owner, "hello from the owner")
    await expect(guest.locator(".message .text").last).to_have_text("hello from the owner")
    await _say(guest, "hi owner")
    await expect(owner.locator(".message .text").last).to_have_text("hi owner")

    # A picture appears inline for both.
    picture = tmp_path / "dot.png"
    picture.write_bytes(png(40, 30))
    await owner.set_input_files(".composer input[type=file]", picture)
    for page in (owner, guest):
        image = page.locator(".message img[alt='dot.png']")
        await expect(image).to_be_visible()
        assert await image.evaluate("i => i.complete && i.naturalWidth") == 40

    # Hostile text is shown as text, live and after a reload, and runs nothing.
    for text in HOSTILE:
        await _say(owner, text)
    for page in (guest, owner):
        await expect(page.locator(".message .text").last).to_have_text(HOSTILE[-1])
        await page.reload()
        texts = await page.locator(".message .text").all_text_contents()
        assert texts[-3:] == HOSTILE
        assert await page.locator(".messages img:not([alt='dot.png'])").count() == 0
        assert await page.locator(".messages a[href^='javascript']").count() == 0
    assert dialogs == []

    await owner.screenshot(path=ARTIFACTS / "channel-phone.png")
    await guest.screenshot(path=ARTIFACTS / "channel-desktop.png")

    # A private channel: the owner's invite link brings the guest in; both chat there.
    private_url = await _create_channel(owner, served, "family", "private")
    await owner.click("text=Invite")
    link = await owner.locator(".invite-link").input_value()
    assert "#" in link and link.split("#")[0].endswith("/invite")
    await expect(owner.locator(".qr svg")).to_be_visible()
    await guest.goto(link)
    await expect(guest.locator(".invite-name")).to_contain_text("family")
    await guest.click("button[data-action=accept-invite]")
    await expect(guest).to_have_url(private_url)
    await owner.goto(private_url)
    await _say(guest, "just us here")
    await expect(owner.locator(".message .text").last).to_have_text("just us here")

    for page, size in ((owner, "phone"), (guest, "desktop")):
        await page.goto(served + "/status")
        # In plain words first: whether the box is well, and the room left.
        await expect(page.locator(".health-line")).to_have_text("The box is working well.")
        await expect(page.locator(".health")).to_contain_text("Room for messages and files:")
        # For phones on which <box>.local does not resolve: the IP address and its QR code.
        await expect(page.locator(".health a.mono").first).to_be_visible()
        await expect(page.locator(".health .qr svg")).to_be_visible()
        # The technical report waits behind "Details".
        await expect(page.locator("dl.status")).to_be_hidden()
        await page.click(".status-details summary")
        await expect(page.locator("dl.status")).to_contain_text("IPFS peer id")
        await expect(page.locator("dl.status")).to_contain_text(" pins")
        await expect(page.locator("dl.status")).to_contain_text("kept in reserve")
        # The box's chain account is the owner's business.
        account = page.locator("dl.status dt", has_text="Box account")
        await expect(account).to_have_count(1 if page is owner else 0)
        await page.screenshot(path=ARTIFACTS / f"status-{size}.png")
    await owner_context.close()
    await guest_context.close()


async def _submit(page: Page, form: str, **fields: str) -> None:
    for name, value in fields.items():
        await page.fill(f"{form} [name={name}]", value)
    await page.click(f"{form} button[type=submit]")


async def _create_channel(page: Page, served: str, name: str, visibility: str) -> str:
    await page.goto(served + "/chat")
    if not await page.locator(".new-channel").is_visible():
        await page.click(".new-channel-box summary")  # folded once there are channels
    await page.fill(".new-channel [name=name]", name)
    await page.check(f".new-channel input[value={visibility}]")
    await page.click(".new-channel button[type=submit]")
    await expect(page.locator(".conversation-head h1")).to_contain_text(name)
    return page.url


async def _say(page: Page, text: str) -> None:
    await page.fill(".composer textarea", text)
    await page.press(".composer textarea", "Enter")
    await expect(page.locator(".message .text").last).to_have_text(text)
