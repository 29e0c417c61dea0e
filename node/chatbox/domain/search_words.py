"""What a search looks for: the words of a query, and whether a text holds them.

Words match as a person expects of a search box: in any case and with or without accents
("zoe" finds "Zoë"), each at the start of a word in the text ("sci" finds "Science"), all
of them somewhere in the message. The public index (SQLite FTS5, ``unicode61`` with
diacritics removed) and the scan of private channels apply the same rule.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from chatbox.errors import InvalidInput

MAX_QUERY_CHARS = 200
MAX_WORDS = 8
_WORD = re.compile(r"[^\W_]+")  # letters and digits: what the index makes words of


def fold(text: str) -> str:
    """``text`` without case and accents: what both sides of a match are compared as.

    ``lower`` rather than ``casefold``: the index lowers "ß" to itself, where casefold
    would make it "ss" and "Straße" would never be found."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def query_words(query: object) -> list[str]:
    """The folded words of what a person typed, at most ``MAX_WORDS``; InvalidInput when
    there is nothing to look for."""
    if not isinstance(query, str):
        raise InvalidInput("a search must be text")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"a search is at most {MAX_QUERY_CHARS} characters")
    words = list(dict.fromkeys(_WORD.findall(fold(query))))[:MAX_WORDS]
    if not words:
        raise InvalidInput("type a word to search for")
    return words


def searchable(body: dict[str, Any]) -> str:
    """What search reads of a message body: its text, else its file's name. The public
    index's triggers (migration 0009) take the same."""
    file = body.get("file") or {}
    return str(body.get("text") or file.get("name") or "")


def holds(text: str, words: list[str]) -> bool:
    """Whether every word begins a word of ``text``."""
    folded = fold(text)
    return all(re.search(rf"(?<!\w){re.escape(word)}", folded) for word in words)
