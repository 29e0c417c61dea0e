"""Canonical JSON: sorted keys, no insignificant whitespace, UTF-8, integers only.

The same value always encodes to the same bytes, so signatures and CIDs are stable
across implementations. Floats are refused because their text form is not canonical.
"""

from __future__ import annotations

import json
from typing import Any

from chatbox.errors import InvalidInput

# Largest integer every JSON implementation represents exactly (IEEE-754 doubles).
MAX_SAFE_INTEGER = 2**53 - 1


def is_int(value: Any) -> bool:
    """A JSON integer: Python's ``True == 1``, but JSON's ``true`` is not a number."""
    return type(value) is int


def dumps(value: Any) -> bytes:
    """Encode ``value`` canonically; InvalidInput if a string holds a lone surrogate."""
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        # JSON's \ud800 escape decodes to a code point UTF-8 cannot hold.
        raise InvalidInput("malformed JSON", detail="a string holds a lone surrogate") from exc


def loads(data: bytes | str) -> Any:
    """Decode JSON, refusing floats, NaN, duplicate keys, invalid UTF-8 and lone
    surrogates (so whatever it returns encodes again)."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(
            text,
            parse_float=_refuse_float,
            parse_constant=_refuse_float,
            object_pairs_hook=_unique_keys,
        )
    # ValueError also covers an integer longer than Python converts (4,300 digits).
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidInput("malformed JSON", detail=str(exc)[:200]) from exc
    if "\\u" in text:  # only an escape can spell a lone surrogate
        dumps(value)
    return value


def _refuse_float(text: str) -> Any:
    raise InvalidInput("malformed JSON", detail=f"non-integer number {text[:40]!r}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise InvalidInput("malformed JSON", detail="duplicate key in object")
    return result
