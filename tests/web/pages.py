"""Driving the pages as a person does: a browser context of a size, forms filled and sent."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, expect


async def new_page(
    browser: Browser, contexts: list[BrowserContext], size: dict[str, int], **options: Any
) -> Page:
    """A page in a fresh context (its own cookies) of ``size``; the caller closes ``contexts``."""
    context = await browser.new_context(viewport=size, **options)  # type: ignore[arg-type]
    contexts.append(context)
    return await context.new_page()


async def fill_and_submit(page: Page, **fields: str) -> None:
    """Fill the page's form fields by name and press its submit button."""
    for name, value in fields.items():
        await page.fill(f"[name={name}]", value)
    await page.click("form button[type=submit]")


async def logged_in(
    browser: Browser,
    contexts: list[BrowserContext],
    served: str,
    name: str,
    size: dict[str, int],
    password: str | None = None,
    **options: Any,
) -> Page:
    """A page logged in as ``name`` through the login form (password "<name> password")."""
    page = await new_page(browser, contexts, size, **options)
    await page.goto(served + "/login")
    await fill_and_submit(page, name=name, password=password or f"{name} password")
    await expect(page).to_have_url(served + "/chat")
    return page
