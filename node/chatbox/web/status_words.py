"""The status report in plain words, for the people who chat rather than run the box.

A member wants to know whether the box is well and whether there is room for their
photos; IPFS peer ids and block numbers stay behind the page's "details".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chatbox.web.i18n import gettext as _
from chatbox.web.i18n import ngettext


@dataclass(frozen=True)
class Summary:
    well: bool
    problems: list[str]  # each a sentence saying what does not work and what still does
    room_free: int  # bytes
    room_total: int
    used_percent: int
    other_boxes: str


def summary(report: dict[str, Any]) -> Summary:
    storage, ipfs, chain = report["storage"], report["ipfs"], report["chain"]
    pending = report["outbox"]["pending"]
    problems = []
    if storage["state"] == "full":
        problems.append(
            _("The box is full: new messages cannot be saved until the owner frees some room.")
        )
    elif storage["state"] == "low":
        problems.append(
            _("The box is nearly full: files and pictures cannot be sent, messages can.")
        )
    if not ipfs["online"]:
        problems.append(
            _(
                "The box's storage service is not running. Messages you send are kept and "
                "stored as soon as it is back."
            )
        )
    if pending and not ipfs["online"]:
        problems.append(
            ngettext(
                "%(num)d message is waiting to be stored.",
                "%(num)d messages are waiting to be stored.",
                pending,
            )
        )
    if chain["state"] in ("unreachable", "error"):
        problems.append(
            _(
                "The box cannot reach the chain, so new messages are not yet proven. "
                "Chatting works as usual."
            )
        )
    total = max(int(storage["total_bytes"]), 1)
    free = int(storage["free_bytes"])
    return Summary(
        well=not problems,
        problems=problems,
        room_free=free,
        room_total=int(storage["total_bytes"]),
        used_percent=round(100 * (total - free) / total),
        other_boxes=_other_boxes(report["sync"]),
    )


def registry_words(standing: tuple[str, int, str | None]) -> str:
    """The chain registry's listing in a sentence, for the directory page."""
    kind, listed, error = standing
    if kind == "off":
        return _("This box uses no chain registry.")
    if kind == "unreachable":
        return _(
            "The chain registry cannot be reached (%(error)s); shown is what it listed before.",
            error=error or "",
        )
    if kind == "connecting":
        return _("Connecting to the chain registry…")
    return ngettext(
        "The chain registry lists %(num)d channel.",
        "The chain registry lists %(num)d channels.",
        listed,
    )


def _other_boxes(sync: dict[str, Any]) -> str:
    known, online = int(sync["boxes"]), int(sync["online"])
    if not known:
        return _("No other chatbox has been found yet.")
    if online == known:
        return ngettext(
            "Connected to the other box.", "Connected to all %(num)d other boxes.", known
        )
    return ngettext(
        "%(online)d of %(num)d other box can be reached now.",
        "%(online)d of %(num)d other boxes can be reached now.",
        known,
        online=online,
    )
