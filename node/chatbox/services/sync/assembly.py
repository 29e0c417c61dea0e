"""The parts of sync put together: one call for the composition root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from chatbox.domain.identity import Identity
from chatbox.ports import FilePins, LogReplica, PeerBook, PeerNetwork
from chatbox.services.supervisor import TaskSupervisor
from chatbox.services.sync.announcer import Announcer
from chatbox.services.sync.exchange import HeadsExchange
from chatbox.services.sync.intake import EntryIndex, EntryIntake
from chatbox.services.sync.people import RemotePeople
from chatbox.services.sync.repair import LogRepair
from chatbox.services.sync.report import SyncReport
from chatbox.services.sync.timing import SyncTiming
from chatbox.services.sync.transport import ChannelSync, HeldChannels


@dataclass(frozen=True)
class Sync:
    """What the rest of the box uses: the loop to run, the protocol that announces posts,
    the people other boxes named, and what the people topic shares with channel sync."""

    transport: ChannelSync
    exchange: HeadsExchange
    people: RemotePeople
    announcer: Announcer
    report: SyncReport


def build_sync(
    box: Identity,
    box_name: str,
    network: PeerNetwork,
    replica: LogReplica,
    peers: PeerBook,
    files: FilePins,
    channels: HeldChannels,
    index: EntryIndex,
    local_names: Callable[[], Awaitable[dict[str, str]]],
    timing: SyncTiming,
) -> Sync:
    report = SyncReport()
    tasks = TaskSupervisor("sync", report.task_failed)
    announcer = Announcer(box, box_name, network)
    intake = EntryIntake(index, files, peers, report)
    repair = LogRepair(replica, network, intake, tasks, timing.repair)
    people = RemotePeople(peers, local_names)
    exchange = HeadsExchange(
        announcer, replica, intake, repair, people, tasks, report, answer_every=timing.repair
    )
    transport = ChannelSync(
        announcer, network, channels, exchange, intake, peers, report, tasks, timing
    )
    return Sync(transport, exchange, people, announcer, report)
