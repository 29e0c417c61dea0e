"""What makes the pages an installable web app: the manifest, the service worker (served
from the root, so it may look after every page) and the page it shows offline."""

from __future__ import annotations

from quart import Blueprint, Response, current_app, jsonify, render_template


def blueprint(box_name: str) -> Blueprint:
    webapp = Blueprint("webapp", __name__)

    @webapp.get("/manifest.webmanifest")
    async def manifest() -> Response:
        response = jsonify(
            {
                "name": f"{box_name} · chatbox",
                "short_name": box_name[:12],
                "description": "Chat on this network's chatbox",
                "start_url": "/chat",
                "scope": "/",
                "display": "standalone",
                "background_color": "#f6f7f9",
                "theme_color": "#1d2330",
                "icons": [
                    {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png"},
                    {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png"},
                    {"src": "/static/icon.svg", "sizes": "any", "type": "image/svg+xml"},
                ],
            }
        )
        response.mimetype = "application/manifest+json"
        return response

    @webapp.get("/sw.js")
    async def service_worker() -> Response:
        response = await current_app.send_static_file("sw.js")
        response.headers["Cache-Control"] = "no-cache"  # a new version is seen at once
        return response

    @webapp.get("/offline")
    async def offline() -> str:
        return await render_template("offline.html", member=None, csrf_token="")

    return webapp
