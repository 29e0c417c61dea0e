"""The anchored mark and its proof as a person sees them: a real chain (anvil), a real node
on Kubo, the page in Chromium."""

from __future__ import annotations

from playwright.async_api import Browser, BrowserContext, expect

from chatbox.daemon import Node, web_services
from chatbox.devstack import free_port
from chatbox.web.app import create_app
from tests.chain.test_anchoring import anchored_round, post_many
from tests.web.conftest import ARTIFACTS, browser, serving
from tests.web.pages import logged_in

__all__ = ["browser"]  # the fixture, used by name below


async def test_an_anchored_message_shows_a_mark_whose_proof_reads_in_plain_words(
    chain_node: Node, browser: Browser
) -> None:
    services = chain_node.services
    owner = await services.accounts.register("owner", "owner password", is_admin=True)
    channel = await services.channels.create(owner, "records", "public")
    await anchored_round(chain_node)  # registers the channel
    await post_many(chain_node, owner, channel.id, 30, "kept")
    await anchored_round(chain_node)
    app = create_app(web_services(services), 1024 * 1024, "library", "test")
    async with serving(app, free_port()) as base:
        contexts: list[BrowserContext] = []
        page = await logged_in(browser, contexts, base, "owner", {"width": 390, "height": 844})
        await page.goto(f"{base}/chat/{channel.id}")
        newest = page.locator(".message", has_text="kept 29")
        await expect(newest).to_be_visible()
        assert await page.locator(".message .anchored").count() == 30

        await page.locator(".message .anchored").last.click()
        proof = page.locator("dialog.proof-card")
        await expect(proof).to_be_visible()
        batch = await services.anchor_queue.last_confirmed_anchor()
        assert batch is not None and batch.tx.block_number is not None
        facts = await proof.locator(".proof-facts").inner_text()
        assert str(batch.tx.block_number) in facts and str(batch.tx.tx_hash) in facts
        assert chain_node.settings.registry_address.lower() in facts.lower()
        message = await newest.get_attribute("data-cid")
        await expect(proof.locator(".proof-command")).to_have_text(f"chatbox verify {message}")
        await page.screenshot(path=ARTIFACTS / "proof-dialog-phone.png")
        for context in contexts:
            await context.close()
