"""The name a person is shown by, apart from the login name they type to log in.

Any script, spaces and accents, up to 64 characters: "Ms Smith", "Zoë", "山田 花子". It is
what other boxes are told (PROTOCOL.md §7 ``people``), so it obeys the same bound.
"""

from __future__ import annotations

import unicodedata

from chatbox.errors import InvalidInput

MAX_DISPLAY_NAME = 64


def chosen_display_name(text: object) -> str | None:
    """The display name ``text`` asks for: None for a blank one (show the login name),
    else ``clean_display_name``'s."""
    if isinstance(text, str) and not text.strip():
        return None
    return clean_display_name(text)


def clean_display_name(text: object) -> str:
    """NFC, trimmed, inner white space collapsed; refused with the reason when not a name.

    Control and format characters (Unicode categories C, which include the bidirectional
    overrides that make one name look like another) are refused rather than dropped, so the
    person sees that what they typed was not kept.
    """
    if not isinstance(text, str):
        raise InvalidInput("a display name must be text")
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not 1 <= len(name) <= MAX_DISPLAY_NAME:
        raise InvalidInput(f"a display name must be 1 to {MAX_DISPLAY_NAME} characters")
    if not name.isprintable():
        raise InvalidInput("a display name may not hold control or formatting characters")
    return name
