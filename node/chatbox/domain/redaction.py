"""What of a URL may be shown: RPC providers put API keys in the path, the query or the user
part (https://eth-mainnet.example/v2/KEY), so only scheme, host and port leave the box's
settings: on the status page and API, in logs and in error details."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_URL = re.compile(r"\b(?:https?|wss?)://[^\s'\"<>),]+")


def shown_url(url: str) -> str:
    """``url`` without user info, path and query (an ellipsis marks that some was cut)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(a URL that cannot be shown)"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    cut = "/…" if parts.path.strip("/") or parts.query or parts.fragment else ""
    return f"{parts.scheme}://{host}{'' if port is None else f':{port}'}{cut}"


def without_url_secrets(text: str) -> str:
    """``text`` (an error message, say) with every URL in it shown as ``shown_url`` does."""
    return _URL.sub(lambda match: shown_url(match.group()), text)
