"""The string catalogue: every string a person reads, gathered from the templates, app.js
and the Python that words pages and errors, and each shipped language's translation of it.

    python scripts/strings.py update   bring each locales/<code>/.../messages.po up to date:
                                       new strings arrive untranslated, gone ones are dropped
    python scripts/strings.py check    list what is missing, untranslated, fuzzy or has
                                       placeholders unlike the English (exit 1 if anything)

English is the source language and has no file (chatbox/web/i18n.py).
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

import chatbox.errors as errors
from chatbox.web.i18n import CATALOGUE, LOCALES

PACKAGE = Path(__file__).resolve().parents[1] / "node" / "chatbox"

# An error's first argument is the sentence a person is shown (chatbox/errors.py); the
# web face translates it. ConfigError names a settings key, which stays as written, and
# ChatboxError itself is raised only to pass on another's words.
ERROR_CLASSES = sorted(
    kind.__name__
    for kind in vars(errors).values()
    if isinstance(kind, type)
    and issubclass(kind, errors.ChatboxError)
    and kind not in (errors.ChatboxError, errors.ConfigError)
)
KEYWORDS = {**DEFAULT_KEYWORDS, **{name: None for name in ERROR_CLASSES}}
METHODS = [
    ("web/templates/**.html", "jinja2"),
    ("web/static/app.js", "javascript"),
    ("**.py", "python"),
]
OPTIONS = {"web/templates/**.html": {"trimmed": "true"}}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def extract() -> Catalog:
    """The catalogue as the code stands: each string once, with every place it is used."""
    template = Catalog(project="chatbox", fuzzy=False)
    found = extract_from_dir(str(PACKAGE), METHODS, OPTIONS, KEYWORDS, comment_tags=("i18n:",))
    for filename, line, message, comments, context in found:
        template.add(message, locations=[(filename, line)], auto_comments=comments, context=context)
    return template


def locale_files(root: Path = LOCALES) -> list[Path]:
    return sorted(root.glob(CATALOGUE))


def read(path: Path) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=path.parts[-3])


def update() -> None:
    template = extract()
    for path in locale_files():
        catalog = read(path)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        out = io.BytesIO()
        write_po(out, catalog, width=100, omit_header=False, sort_output=False)
        path.write_bytes(out.getvalue())
        print(f"{path.relative_to(PACKAGE)}: {len(catalog)} strings")


def problems(root: Path = LOCALES) -> list[str]:
    """What stands between the code's strings and every shipped translation of them."""
    template = extract()
    wanted = {message.id for message in template if message.id}
    found: list[str] = []
    for path in locale_files(root):
        code = path.parts[-3]
        catalog = read(path)
        have = {message.id for message in catalog if message.id}
        found += [f"{code}: missing {_show(key)}" for key in wanted - have]
        found += [f"{code}: no longer used {_show(key)}" for key in have - wanted]
        for message in catalog:
            if not message.id:
                continue
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(forms):
                found.append(f"{code}: untranslated {_show(message.id)}")
            elif message.fuzzy:
                found.append(f"{code}: fuzzy {_show(message.id)}")
            elif not _same_placeholders(message.id, forms):
                found.append(f"{code}: placeholders differ in {_show(message.id)}")
    return found


def _same_placeholders(key: object, forms: tuple[str, ...]) -> bool:
    """Each translation takes the English's named values; a plural's forms may leave some
    out one by one ("the other box"), but together they take all of its plural's."""
    wanted = set(PLACEHOLDER.findall(key[-1] if isinstance(key, tuple) else str(key)))
    taken = [set(PLACEHOLDER.findall(form)) for form in forms]
    if not isinstance(key, tuple):
        return taken == [wanted]
    return all(each <= wanted for each in taken) and set().union(*taken) == wanted


def _show(key: object) -> str:
    text = key[0] if isinstance(key, tuple) else str(key)
    return repr(text[:70])


def main(argv: list[str]) -> int:
    if argv[1:] == ["update"]:
        update()
        return 0
    if argv[1:] == ["check"]:
        found = problems()
        print("\n".join(found) or "every string is translated")
        return 1 if found else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
