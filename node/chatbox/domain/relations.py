"""Folding what is said about messages into them, by the rules every box applies the same
way (docs/PROTOCOL.md section 5): which edit shows, who reacted, how many replies.

- An edit counts only from its message's author; the last in the log's order wins.
- For each person, message and reaction, the person's last ``react`` in the log's order
  says whether they reacted.
- A reply counts until it is deleted. (Deletes themselves are carried out by the index,
  domain/content.py says why; a deleted edit is never the one shown, and a reaction
  dropped, as a ban drops what its key wrote after it, counts for nothing.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple


class Said(NamedTuple):
    """One entry about a message, in the log's order: what folding needs of it. (A tuple:
    a message with thousands of reactions makes thousands of these for one page.)"""

    cid: str
    kind: str  # reply, edit, react or delete
    target: str
    author: str
    deleted: bool = False
    reaction: str | None = None
    reaction_on: bool = False


@dataclass
class Folded:
    replies: int = 0
    edits: list[str] = field(default_factory=list)  # the counted edits' CIDs, oldest first
    # reaction -> who, in the order they first reacted
    reactions: dict[str, list[str]] = field(default_factory=dict)
    revision: int = 0  # how many entries about the message were folded in

    @property
    def shown_edit(self) -> str | None:
        return self.edits[-1] if self.edits else None


def fold(authors: dict[str, str], about: Iterable[Said]) -> dict[str, Folded]:
    """``authors`` maps each message's CID to its author; ``about`` is in log order."""
    folded = {cid: Folded() for cid in authors}
    latest: dict[tuple[str, str, str], bool] = {}
    for said in about:
        target = folded.get(said.target)
        if target is None:
            continue
        target.revision += 1
        if said.kind == "reply" and not said.deleted:
            target.replies += 1
        elif said.kind == "edit" and said.author == authors[said.target] and not said.deleted:
            target.edits.append(said.cid)
        elif said.kind == "react" and said.reaction is not None and not said.deleted:
            latest[(said.target, said.reaction, said.author)] = said.reaction_on
    for (target_cid, reaction, author), on in latest.items():
        if on:
            folded[target_cid].reactions.setdefault(reaction, []).append(author)
    return folded
