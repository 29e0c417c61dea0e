"""The pages' words in the reader's language: catalogues read once at start, one chosen
per request from the person's choice on this device, else the browser's Accept-Language.

English is the source language: its strings are the catalogue's keys, so it has no file.
Every other language is ``locales/<code>/LC_MESSAGES/messages.po``, kept current with
``make strings`` and checked by tests/web/test_strings.py (nothing missing, nothing
untranslated, placeholders alike). The .po files are compiled in memory at start, so the
box ships no generated binaries.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from quart import g, has_app_context
from werkzeug.datastructures import LanguageAccept

SOURCE = "en"
LOCALES = Path(__file__).parent / "locales"
CATALOGUE = "*/LC_MESSAGES/messages.po"  # one per language, under LOCALES
COOKIE = "chatbox-lang"  # set by the page's language menu (app.js), read here
SCRIPT = "static/app.js"  # the strings it uses travel to it inside the page


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # in the language itself, as a menu lists it: "Deutsch"
    translations: NullTranslations
    script_strings: dict[str, str]  # app.js's strings: English -> this language

    def gettext(self, text: str) -> str:
        # gettext("") is the catalogue's header, never what a caller means
        return self.translations.gettext(text) if text else text

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.translations.ngettext(singular, plural, count)


def _own_name(code: str) -> str:
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def load(root: Path = LOCALES) -> dict[str, Language]:
    """Every shipped language by code, English first."""
    languages = {SOURCE: Language(SOURCE, _own_name(SOURCE), NullTranslations(), {})}
    for po in sorted(root.glob(CATALOGUE)):
        code = po.parts[-3]
        with po.open("rb") as source:
            catalog = read_po(source, locale=code)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        script = {
            str(message.id): str(message.string)
            for message in catalog
            if message.id
            and message.string
            and any(path.endswith(SCRIPT) for path, _ in message.locations)
        }
        languages[code] = Language(code, _own_name(code), Translations(compiled), script)
    return languages


def choose(languages: dict[str, Language], chosen: str | None, accept: LanguageAccept) -> Language:
    """The person's own choice if shipped, else the browser's best match, else English."""
    if chosen in languages:
        return languages[chosen]
    best = accept.best_match(list(languages), default=SOURCE)
    return languages[best or SOURCE]


def current() -> Language:
    """The request's language; English outside a request (start-up, the CLI)."""
    language: Language | None = g.get("language") if has_app_context() else None
    return language or _ENGLISH


def gettext(text: str, **values: Any) -> str:
    translated = current().gettext(text)
    return translated % values if values else translated


def ngettext(singular: str, plural: str, count: int, **values: Any) -> str:
    translated = current().ngettext(singular, plural, count)
    return translated % {"num": count, **values}


def N_(text: str) -> str:  # the name the catalogue's extractor looks for
    """Marks ``text`` for the catalogue where it is defined; ``gettext`` translates it later."""
    return text


def number(value: float, pattern: str) -> str:
    """``value`` as the reader's language writes it with the Babel (CLDR) ``pattern``:
    1.5 in English, 1,5 in German."""
    return format_decimal(value, pattern, locale=current().code)


_ENGLISH = Language(SOURCE, "English", NullTranslations(), {})
