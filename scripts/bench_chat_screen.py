"""Benchmark of the chat screen in a real browser; prints figures, asserts nothing.

    .venv/bin/python scripts/bench_chat_screen.py [--messages N]

Starts a fresh Kubo (configured as a box's) and `chatbox run` as its own process, posts
N messages (default 10,000) to one channel through the JSON API, then opens the channel
in headless Chromium (Debian's) at phone and desktop sizes, cold, and measures: the
bytes that crossed the network (as sent, compressed), the time from navigation to the
newest message being on screen, the DOM's size and message rows, and the same after
scrolling back through ten pages of history. Targets (issue 14): first page <= 60 KB,
newest on screen <= 300 ms, <= 300 message rows however long the history.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import aiohttp
from bench_common import scratch
from bench_web import spawn_node, wait_for
from playwright.async_api import Page, async_playwright

from chatbox.devstack import IpfsDaemon, free_port

POSTERS = 20
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCROLL_PAGES = 10
OPENS = 7  # cold opens per size; the median is printed, and the range


async def main(messages: int) -> None:
    with scratch("chat-screen-") as scratch_dir:
        daemon = await asyncio.to_thread(IpfsDaemon(Path(scratch_dir) / "ipfs").start)
        port = free_port()
        node = await asyncio.to_thread(spawn_node, Path(scratch_dir) / "node", daemon.api_url, port)
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_for(base)
            channel = await _seed(base, messages)
            await _measure(base, channel, messages)
        finally:
            node.terminate()
            node.wait(30)
            await asyncio.to_thread(daemon.stop)


async def _seed(base: str, messages: int) -> str:
    jar = aiohttp.CookieJar(unsafe=True)  # keep the cookie of a bare IP address
    async with aiohttp.ClientSession(base, cookie_jar=jar) as http:
        reply = await http.post("/api/v1/setup", json={"name": "bench", "password": "bench pw 1"})
        headers = {"X-CSRF-Token": (await reply.json())["csrf_token"]}
        created = await http.post(
            "/api/v1/channels", json={"name": "long", "visibility": "public"}, headers=headers
        )
        channel = str((await created.json())["id"])
        started = time.perf_counter()
        numbers = iter(range(1, messages + 1))

        async def poster() -> None:
            for number in numbers:
                text = (
                    f"message {number}: a line of chat, **some bold**, https://example.org/{number}"
                )
                async with http.post(
                    f"/api/v1/channels/{channel}/messages", json={"text": text}, headers=headers
                ) as response:
                    assert response.status == 201, await response.text()

        await asyncio.gather(*(poster() for _ in range(POSTERS)))
        elapsed = time.perf_counter() - started
        print(f"seeded {messages} messages in {elapsed:.0f} s ({messages / elapsed:.0f}/s)")
        return channel


async def _measure(base: str, channel: str, messages: int) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        for size, viewport in SIZES.items():
            # No service worker: it would answer from its cache, and a first visit has none.
            context = await browser.new_context(  # type: ignore[arg-type]
                viewport=viewport, service_workers="block"
            )
            page = await context.new_page()
            await _log_in(page, base)
            runs = [
                await _open_cold(page, f"{base}/chat/{channel}", messages) for _ in range(OPENS)
            ]
            figures = runs[-1]
            times = sorted(run["ms"] for run in runs)
            print(
                f"{size}: first channel page {figures['kb']:.1f} KB over the network "
                f"({figures['requests']} requests; target <= 60 KB), newest message on screen "
                f"after {times[len(times) // 2]:.0f} ms median of {OPENS} cold opens, "
                f"{times[0]:.0f} to {times[-1]:.0f} (target <= 300 ms), "
                f"{figures['rows']} message rows, {figures['nodes']} DOM nodes"
            )
            rows, nodes = await _scroll_back(page)
            print(
                f"{size}: after scrolling back {SCROLL_PAGES} pages: {rows} message rows, "
                f"{nodes} DOM nodes (target <= 300 rows)"
            )
            await context.close()
        await browser.close()


async def _log_in(page: Page, base: str) -> None:
    await page.goto(base + "/login")
    await page.fill("[name=name]", "bench")
    await page.fill("[name=password]", "bench pw 1")
    await page.click("form button[type=submit]")
    await page.wait_for_url(base + "/chat")


async def _open_cold(page: Page, url: str, messages: int) -> dict[str, Any]:
    """Open ``url`` with an empty cache; what it cost until the newest message showed."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.clearBrowserCache")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: dict[str, float] = {}
    cdp.on(
        "Network.loadingFinished",
        lambda event: sizes.__setitem__(event["requestId"], event["encodedDataLength"]),
    )
    await page.goto(url, wait_until="commit")
    await page.wait_for_function(
        """(text) => {
          const rows = document.querySelectorAll('.message');
          const last = rows[rows.length - 1];
          if (!last || !last.textContent.includes(text)) return false;
          const box = last.getBoundingClientRect();
          const list = last.closest('.messages').getBoundingClientRect();
          return box.bottom <= Math.min(innerHeight, list.bottom) + 1 && box.top >= list.top - 1;
        }""",
        arg=f"message {messages}:",
        polling="raf",
    )
    shown = await page.evaluate("performance.now()")
    await page.wait_for_load_state("load")
    await asyncio.sleep(0.5)  # the event stream opens; it never finishes, so it is not counted
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    return {
        "kb": sum(sizes.values()) / 1024,
        "requests": len(sizes),
        "ms": shown,
        "rows": await page.locator(".message").count(),
        "nodes": await page.evaluate("document.getElementsByTagName('*').length"),
    }


async def _scroll_back(page: Page) -> tuple[int, int]:
    for _ in range(SCROLL_PAGES):
        before = await page.locator(".message").first.get_attribute("data-cid")
        await page.eval_on_selector(".messages", "list => { list.scrollTop = 0; }")
        await page.wait_for_function(
            "(cid) => document.querySelector('.message').dataset.cid !== cid", arg=before
        )
    return (
        await page.locator(".message").count(),
        await page.evaluate("document.getElementsByTagName('*').length"),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    asyncio.run(main(parser.parse_args().messages))
