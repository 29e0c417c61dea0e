"""How often sync looks, waits and retries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SyncTiming:
    exchange: float = 30.0  # periodic head exchange, which repairs what pubsub lost
    settle: float = 0.5  # after a peer connects or a subscription opens: time for gossipsub
    watch: float = 2.0  # how often new channels and new connections are looked for
    repair: float = 3.0  # a want unanswered this long: fetch the entries by CID instead
    retry: float = 2.0  # resubscribe after IPFS dropped a subscription
    redial: float = 30.0  # dial a known box again this long after the last try
    people: float = 60.0  # announce this box's people and the grants it delivers


DEFAULT_SYNC_TIMING = SyncTiming()
