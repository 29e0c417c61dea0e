"""The status report in plain words, for the people who chat rather than run the box.

A member wants to know whether the box is well and whether there is room for their
photos; IPFS peer ids and block numbers stay behind the page's "details".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
            "The box is full: new messages cannot be saved until the owner frees some room."
        )
    elif storage["state"] == "low":
        problems.append("The box is nearly full: files and pictures cannot be sent, messages can.")
    if not ipfs["online"]:
        problems.append(
            "The box's storage service is not running. Messages you send are kept and "
            "stored as soon as it is back."
        )
    if pending and not ipfs["online"]:
        problems.append(f"{pending} {_messages(pending)} waiting to be stored.")
    if chain["state"] in ("unreachable", "error"):
        problems.append(
            "The box cannot reach the chain, so new messages are not yet proven. "
            "Chatting works as usual."
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


def _messages(count: int) -> str:
    return "message is" if count == 1 else "messages are"


def _other_boxes(sync: dict[str, Any]) -> str:
    known, online = int(sync["boxes"]), int(sync["online"])
    if not known:
        return "No other chatbox has been found yet."
    if online == known:
        return f"Connected to {'the other box' if known == 1 else f'all {known} other boxes'}."
    return f"{online} of {known} other boxes can be reached now."
