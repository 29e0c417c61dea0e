"""The plain-words status summary over reports of a box in trouble (a pure function: the
pages' own tests cover a well box on a real node)."""

from __future__ import annotations

from typing import Any

from chatbox.web.status_words import summary


def _report(**changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "storage": {"state": "ok", "free_bytes": 750, "total_bytes": 1000},
        "ipfs": {"online": True},
        "outbox": {"pending": 0},
        "chain": {"state": "off"},
        "sync": {"boxes": 0, "online": 0},
    }
    for key, value in changes.items():
        report[key] = {**report[key], **value}
    return report


def test_a_well_box_says_so_with_its_room() -> None:
    words = summary(_report())
    assert words.well and words.problems == []
    assert (words.room_free, words.room_total, words.used_percent) == (750, 1000, 25)
    assert words.other_boxes == "No other chatbox has been found yet."


def test_each_trouble_is_named_and_says_what_still_works() -> None:
    words = summary(
        _report(
            storage={"state": "low", "free_bytes": 10},
            ipfs={"online": False},
            outbox={"pending": 3},
            chain={"state": "unreachable"},
            sync={"boxes": 3, "online": 1},
        )
    )
    assert not words.well
    assert len(words.problems) == 4
    assert "files and pictures cannot be sent, messages can" in words.problems[0]
    assert "3 messages are waiting to be stored." in words.problems
    assert "Chatting works as usual." in words.problems[-1]
    assert words.other_boxes == "1 of 3 other boxes can be reached now."
    assert summary(_report(storage={"state": "full"})).problems[0].startswith("The box is full")
