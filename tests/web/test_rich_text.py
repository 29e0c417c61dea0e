"""Message text rendering: the Markdown subset chat uses, links, mentions, and no way to
smuggle markup or script through it."""

from __future__ import annotations

import re

import pytest

from chatbox.web.rich_text import mentioned_in, mentions_in, render, with_mentioned_keys

LINK = 'target="_blank" rel="noopener noreferrer nofollow"'


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("**bold** and _italic_", "<p><strong>bold</strong> and <em>italic</em></p>"),
        ("~~gone~~ `x < y`", "<p><s>gone</s> <code>x &lt; y</code></p>"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("```\n<b>raw</b>\n```", "<pre><code>&lt;b&gt;raw&lt;/b&gt;\n</code></pre>"),
        ("first\nsecond", "<p>first<br>\nsecond</p>"),
        ("# not a heading", "<p># not a heading</p>"),
        (
            "see https://example.org/a?b=1",
            f'<p>see <a href="https://example.org/a?b=1" {LINK}>https://example.org/a?b=1</a></p>',
        ),
        ("[docs](https://example.org)", f'<p><a href="https://example.org" {LINK}>docs</a></p>'),
        (
            "hi @alice.",
            '<p>hi <span class="mention" data-name="alice">@alice</span>.</p>',
        ),
        (
            "mail bob@example.org",
            f'<p>mail <a href="mailto:bob@example.org" {LINK}>bob@example.org</a></p>',
        ),
        ("`@alice` in code", "<p><code>@alice</code> in code</p>"),
    ],
)
def test_the_chat_subset_renders(text: str, html: str) -> None:
    assert render(text) == html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        '<a href="javascript:alert(1)">x</a>',
        "![x](https://example.org/a.png)",
        '<span class="mention" onclick="alert(1)">@x</span>',
        "<iframe src=https://example.org></iframe>",
        "**<svg onload=alert(1)>**",
    ],
)
def test_nothing_typed_becomes_markup_or_script(text: str) -> None:
    html = str(render(text))
    for tag, attributes in _TAG.findall(html):
        assert tag in SHOWN_TAGS, html
        for name, value in _ATTRIBUTE.findall(attributes):
            assert name in SHOWN_ATTRIBUTES, html
            if name == "href":
                assert value.startswith(("https://", "http://", "mailto:")), html


_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)([^>]*)>")
_ATTRIBUTE = re.compile(r'([a-zA-Z-]+)="([^"]*)"')
SHOWN_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "span",
}
SHOWN_ATTRIBUTES = {"href", "target", "rel", "title", "class", "data-name", "data-box"}


def test_mentions_are_the_names_typed() -> None:
    html = render("@alice and @bob.smith, not me@example.org or `@code`")
    assert mentions_in(html) == {
        "alice",
        "bob.smith",
    }


def test_a_mention_names_a_person_on_another_box_after_a_second_at() -> None:
    html = str(render("ask @bob@box-b, or @carol. not x@box-b nor @@box"))
    assert mentioned_in(html) == {("bob", "box-b"), ("carol", None)}
    assert '<span class="mention" data-name="bob" data-box="box-b">@bob@box-b</span>' in html
    keyed = with_mentioned_keys(html, lambda name, box: "ab" * 32 if box == "box-b" else None)
    assert f'data-box="box-b" data-key="{"ab" * 32}">' in keyed
    assert '<span class="mention" data-name="carol">' in keyed  # no one by that name
