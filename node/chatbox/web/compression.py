"""gzip for pages, JSON and static files, so a phone on weak Wi-Fi opens a channel quickly.

Only bodies held whole (rendered pages, JSON, the static files) are compressed; streams
(live events, file downloads) pass untouched, since buffering them would hold up every
live message. The box serves plain HTTP on its LAN, so compression gives an eavesdropper
nothing a plain-text page would not (the BREACH attack needs TLS to matter).
"""

from __future__ import annotations

import gzip

from quart import Quart, Response, request
from quart.wrappers.response import DataBody, FileBody

COMPRESSIBLE = {
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
}
SMALLEST = 1024  # bytes: below this the header costs about what gzip saves
LEVEL = 6  # zlib's default: within a few percent of 9 at about half the CPU


def install(app: Quart) -> None:
    @app.after_request
    async def compress(response: Response) -> Response:
        if not _wants_gzip() or not _compressible(response):
            return response
        body = await response.get_data(as_text=False)
        if len(body) < SMALLEST:
            return response
        response.set_data(gzip.compress(body, LEVEL, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        return response


def _wants_gzip() -> bool:
    return any(
        part.split(";")[0].strip() == "gzip"
        for part in request.headers.get("Accept-Encoding", "").split(",")
    )


def _compressible(response: Response) -> bool:
    return (
        response.status_code == 200
        and "Content-Encoding" not in response.headers
        and response.mimetype in COMPRESSIBLE
        and isinstance(response.response, DataBody | FileBody)
    )
