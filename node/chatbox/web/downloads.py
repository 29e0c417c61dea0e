"""File downloads: streamed, and served so an uploaded file can never act as a page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

from quart import Response

from chatbox.services.files import Download

# Shown inline in the chat; anything else (SVG and HTML included) is only downloaded.
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"})


async def file_response(file: Download) -> Response:
    # Pull the first chunk now, so an IPFS outage is a clear 503 rather than a cut stream.
    first = await anext(file.chunks, b"")
    inline = file.mime in INLINE_IMAGES
    response = Response(_rest(first, file.chunks), mimetype=file.mime)
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename*=UTF-8''{quote(file.name, safe='')}"
    )
    response.headers["Content-Length"] = str(file.size)
    # Even opened directly, a file runs no script and reaches nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.timeout = None
    return response


async def _rest(first: bytes, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in chunks:
        yield chunk
