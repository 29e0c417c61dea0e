"""The string catalogue: every string a person reads is in it, and every shipped language
translates all of them with the same placeholders. The language is chosen per request."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from chatbox.web import i18n

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "strings.py"


@pytest.fixture(scope="module")
def strings() -> ModuleType:
    spec = importlib.util.spec_from_file_location("strings", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_string_in_the_code_is_translated_in_every_shipped_language(
    strings: ModuleType,
) -> None:
    assert strings.problems() == []  # after a change to the words: make strings, translate


def test_the_catalogue_gathers_templates_script_and_error_sentences(strings: ModuleType) -> None:
    places = {str(message.id): message.locations for message in strings.extract() if message.id}
    where = {text: {path for path, _ in places[text]} for text in places}
    assert "web/templates/base.html" in where["Skip to content"]
    assert "web/static/app.js" in where["Connection to the box lost. Reconnecting by itself…"]
    assert any(path.startswith("services/") for path in where["no such channel"])
    assert "web/status_words.py" in where["No other chatbox has been found yet."]
    assert len(places) > 300


def _copy_of_german(tmp_path: Path, edit: dict[str, str]) -> Path:
    source = i18n.LOCALES / "de" / "LC_MESSAGES" / "messages.po"
    target = tmp_path / "de" / "LC_MESSAGES" / "messages.po"
    target.parent.mkdir(parents=True)
    shutil.copy(source, target)
    text = target.read_text(encoding="utf-8")
    for old, new in edit.items():
        assert old in text
        text = text.replace(old, new, 1)
    target.write_text(text, encoding="utf-8")
    return tmp_path


def test_the_check_finds_an_untranslated_string_and_a_lost_placeholder(
    strings: ModuleType, tmp_path: Path
) -> None:
    root = _copy_of_german(
        tmp_path,
        {
            'msgstr "Zum Inhalt springen"': 'msgstr ""',
            'msgstr "Hier beginnt %(channel)s."': 'msgstr "Hier beginnt der Kanal."',
        },
    )
    found = strings.problems(root)
    assert "de: untranslated 'Skip to content'" in found
    assert any("This is the beginning of %(channel)s." in problem for problem in found)


def test_the_shipped_languages_load_with_the_script_strings_of_each() -> None:
    languages = i18n.load()
    assert list(languages) == ["en", "de"]
    assert languages["de"].name == "Deutsch" and languages["en"].name == "English"
    german = languages["de"]
    assert german.gettext("Skip to content") == "Zum Inhalt springen"
    assert german.ngettext("%(count)s message", "%(count)s messages", 2) == "%(count)s Nachrichten"
    # Only what app.js writes travels in the page; the rest is rendered by the box.
    assert german.script_strings["Today"] == "Heute"
    assert "Skip to content" not in german.script_strings


@pytest.mark.parametrize(
    ("cookie", "header", "chosen"),
    [
        (None, "de-DE,de;q=0.9,en;q=0.8", "de"),
        (None, "de-AT", "de"),
        (None, "fr-FR,fr;q=0.9", "en"),
        (None, "", "en"),
        ("en", "de-DE,de;q=0.9", "en"),  # the person's own choice on this device wins
        ("de", "en-GB", "de"),
        ("xx", "de", "de"),  # a choice of a language the box does not ship is ignored
    ],
)
def test_the_language_is_the_persons_choice_else_the_browsers(
    cookie: str | None, header: str, chosen: str
) -> None:
    accept = parse_accept_header(header, LanguageAccept)
    assert i18n.choose(i18n.load(), cookie, accept).code == chosen
