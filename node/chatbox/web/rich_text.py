"""Message text as people write it in chat: a safe Markdown subset, links, ``@mentions``.

markdown-it-py parses with raw HTML off and only the rules chat needs enabled (bold,
italic, strike, inline code, code blocks, quotes, lists, links typed or bare, line
breaks); headings, tables and images stay text. nh3 (the Ammonia sanitizer) then keeps
only those tags, http(s) and mailto links, and makes every link open in a new tab with
``rel="noopener noreferrer nofollow"``. Whatever the parser does, the output is sanitized.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup, escape

_RULES = [
    "emphasis",
    "strikethrough",
    "backticks",
    "fence",
    "blockquote",
    "list",
    "linkify",
    "autolink",
    "link",
    "newline",
    "escape",
]
_TAGS = {
    "p", "br", "strong", "em", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "span",
}  # fmt: skip
# A mention: @ and a login name, and after a second @ the box it is on (a DNS label), not
# inside a word or an e-mail address.
_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_.-]{1,32})(?:@([A-Za-z0-9-]{1,63}))?(?![\w@])")


def _mentions(state: StateCore) -> None:
    """Turn ``@name`` in plain text (not in code or links) into a highlighted span."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        in_link = 0
        for token in block.children:
            in_link += token.type == "link_open"
            in_link -= token.type == "link_close"
            if token.type != "text" or in_link or "@" not in token.content:
                children.append(token)
                continue
            children.extend(_split_mentions(token.content))
        block.children = children


def _split_mentions(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    for match in _MENTION.finditer(text):
        tokens.append(_text(text[position : match.start()]))
        span = Token("html_inline", "", 0)
        box = match.group(2)
        name = match.group(1) if box else match.group(1).rstrip(".")
        where = f' data-box="{escape(box)}"' if box else ""
        shown = f"@{escape(name)}@{escape(box)}" if box else f"@{escape(name)}"
        span.content = f'<span class="mention" data-name="{escape(name)}"{where}>{shown}</span>'
        tokens.append(span)
        tokens.append(_text("" if box else match.group(1)[len(name) :]))
        position = match.end()
    tokens.append(_text(text[position:]))
    return [token for token in tokens if token.content]


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


_PARSER = MarkdownIt("zero", {"html": False, "linkify": True, "breaks": True}).enable(_RULES)
_PARSER.core.ruler.push("mentions", _mentions)


def render(text: str) -> Markup:
    """Sanitized HTML for a message's text."""
    return Markup(_rendered(text))


# A message's text never changes, and every page of history and every live message asks
# for it again: about 0.3 ms a message on this machine (markdown-it and nh3), a few times
# that on a Pi. The newest messages, the ones pages show most, stay rendered.
@functools.lru_cache(maxsize=2048)
def _rendered(text: str) -> str:
    return nh3.clean(
        _PARSER.render(text),
        tags=_TAGS,
        attributes={"a": {"href"}, "span": {"data-name", "data-box"}},
        allowed_classes={"span": {"mention"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    ).strip()


def mentions_in(html: str) -> set[str]:
    """The names ``render`` marked as mentions in its output."""
    return {name for name, _ in mentioned_in(html)}


def mentioned_in(html: str) -> set[tuple[str, str | None]]:
    """The (login name, box or None) of each mention ``render`` marked in its output."""
    return {(name, box or None) for name, box in _MENTIONED.findall(html)}


def with_mentioned_keys(html: str, key_of: Callable[[str, str | None], str | None]) -> str:
    """``html`` with each mention naming the key ``key_of(name, box)`` resolves it to (as
    ``data-key``): the page marks a mention of the person reading by it."""

    def keyed(match: re.Match[str]) -> str:
        key = key_of(match.group(1), match.group(2) or None)
        return match.group(0) if key is None else f'{match.group(0)[:-1]} data-key="{key}">'

    return _MENTIONED.sub(keyed, html)


_MENTIONED = re.compile(
    r'<span class="mention" data-name="([A-Za-z0-9_.-]+)"(?: data-box="([A-Za-z0-9-]+)")?>'
)
