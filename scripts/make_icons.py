"""Draw the web app's PNG icons (192 and 512 px) from static/icon.svg with Chromium.

    .venv/bin/python scripts/make_icons.py

Run after changing icon.svg; the PNGs are committed, since installing the web app on a
phone needs raster icons and the box has no drawing library.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
from pathlib import Path

from playwright.async_api import async_playwright

STATIC = Path(__file__).resolve().parents[1] / "node/chatbox/web/static"
SIZES = (192, 512)


async def main() -> None:
    svg = base64.b64encode((STATIC / "icon.svg").read_bytes()).decode()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu"],
        )
        for size in SIZES:
            page = await browser.new_page(viewport={"width": size, "height": size})
            await page.set_content(
                f'<body style="margin:0;background:transparent">'
                f'<img src="data:image/svg+xml;base64,{svg}" width="{size}" height="{size}">'
            )
            await page.screenshot(
                path=STATIC / f"icon-{size}.png",
                omit_background=True,
                clip={"x": 0, "y": 0, "width": size, "height": size},
            )
            await page.close()
        await browser.close()


if __name__ == "__main__":
    asyncio.run(main())
