"""A found message shown as a person scans a result list: a stretch of its text around
the first word found, every found word marked, the rest escaped."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from chatbox.domain.search_words import fold

SNIPPET_CHARS = 200
LEAD_CHARS = 60  # of text kept before the first word found
_TOKEN = re.compile(r"[^\W_]+")


def snippet(text: str, words: list[str]) -> Markup:
    """``text`` cut to about ``SNIPPET_CHARS`` around the first found word, as HTML."""
    found = [t for t in _TOKEN.finditer(text) if any(fold(t.group()).startswith(w) for w in words)]
    start = max(0, found[0].start() - LEAD_CHARS) if found else 0
    end = min(len(text), start + SNIPPET_CHARS)
    parts: list[str | Markup] = ["…" if start else ""]
    at = start
    for token in found:
        if token.start() < start or token.end() > end:
            continue
        parts += [text[at : token.start()], Markup("<mark>%s</mark>") % token.group()]
        at = token.end()
    parts += [text[at:end], "…" if end < len(text) else ""]
    return Markup("").join(escape(part) for part in parts)
