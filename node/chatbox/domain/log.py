"""The channel log: a Merkle-CRDT of envelopes linked by ``prev`` (as in OrbitDB's ipfs-log).

Appending never rewrites; merging two replicas is the union of their entries; the total
order is (clock, CID). The heads are the entries no other entry points to, so they name
the whole history. This in-memory form serves rebuilding, merging and tests; the SQLite
index keeps the same heads incrementally (``heads_after``).
"""

from __future__ import annotations

from collections.abc import Iterable

from chatbox.domain.envelope import MAX_PREV, Envelope


def next_position(heads: Iterable[tuple[str, int]]) -> tuple[int, list[str]]:
    """Clock and ``prev`` for a new entry on top of ``heads`` given as (cid, clock) pairs."""
    ordered = sorted(heads, key=lambda head: (head[1], head[0]))
    if not ordered:
        return 1, []
    # Link to the newest heads if a wide fork exceeds what one envelope may name; the
    # older ones are merged by a later entry.
    kept = ordered[-MAX_PREV:]
    return ordered[-1][1] + 1, sorted(cid for cid, _ in kept)


def heads_after(heads: set[str], entry: Envelope, already_referenced: bool) -> set[str]:
    """Heads once ``entry`` joins a log whose heads were ``heads``.

    ``already_referenced`` says whether an entry already in the log names ``entry`` in its
    ``prev`` (a child that arrived first); such an entry is never a head.
    """
    updated = heads - set(entry.prev)
    if not already_referenced:
        updated.add(entry.cid)
    return updated


class ChannelLog:
    """All entries of one channel held in memory."""

    def __init__(self, channel: str, entries: Iterable[Envelope] = ()) -> None:
        self.channel = channel
        self._entries: dict[str, Envelope] = {}
        self._referenced: set[str] = set()
        self._heads: set[str] = set()
        for entry in entries:
            self.add(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, cid: object) -> bool:
        return cid in self._entries

    def add(self, entry: Envelope) -> bool:
        """Add one verified entry; False if it was already there."""
        if entry.channel != self.channel:
            raise ValueError("entry belongs to another channel")
        if entry.cid in self._entries:
            return False
        self._heads = heads_after(self._heads, entry, entry.cid in self._referenced)
        self._entries[entry.cid] = entry
        self._referenced.update(entry.prev)
        return True

    def merge(self, other: ChannelLog) -> int:
        """Take the union with another replica; returns how many entries were new."""
        return sum(self.add(entry) for entry in other.entries())

    def heads(self) -> list[str]:
        return sorted(self._heads)

    def head_positions(self) -> list[tuple[str, int]]:
        return [(cid, self._entries[cid].clock) for cid in self.heads()]

    def entries(self) -> list[Envelope]:
        """Every entry in the total order."""
        return sorted(self._entries.values(), key=lambda entry: entry.sort_key)

    def missing(self) -> set[str]:
        """CIDs named in some ``prev`` that this replica does not hold yet."""
        return self._referenced - self._entries.keys()
