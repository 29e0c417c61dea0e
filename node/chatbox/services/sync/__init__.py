"""Channel sync between boxes over IPFS pubsub (DESIGN.md section 3, docs/PROTOCOL.md).

Each channel this box holds has a subscription to its topic. A post here is announced at
once with the new entries inline; heads are exchanged when a peer connects and every
``exchange`` seconds. A box that hears of heads it lacks asks their sender for a pack (a
``want`` carrying a sample of its own log) and, if no pack comes, fetches the missing
entries by CID through IPFS, many at a time. Every entry is verified before it is
indexed; whatever is invalid is dropped and its sender counted.

The parts, each with one job:

- ``transport``: the subscriptions, kept open, and the periodic exchange (``ChannelSync``);
- ``exchange``: the heads/want/pack protocol, what to answer and what to announce;
- ``announcer``: signs and publishes one announcement as this box;
- ``intake``: verifies and indexes entries a peer sent;
- ``repair``: fetches by CID what no pack brought;
- ``people``: the authors of other boxes, as their boxes name them;
- ``report``: the counts and the last error the status page shows;
- ``pacing``: at most once per interval for each key (answers to a box, buddy-list writes);
- ``assembly``: the parts put together for the composition root.
"""

from chatbox.services.sync.assembly import Sync, build_sync
from chatbox.services.sync.people import RemotePeople
from chatbox.services.sync.timing import DEFAULT_SYNC_TIMING, SyncTiming
from chatbox.services.sync.transport import ChannelSync

__all__ = ["DEFAULT_SYNC_TIMING", "ChannelSync", "RemotePeople", "Sync", "SyncTiming", "build_sync"]
