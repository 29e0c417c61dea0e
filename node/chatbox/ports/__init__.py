"""The seams the services depend on, by role, and the plain records that cross them.

Each protocol is what one kind of service needs of a store or daemon, no more: the
outbox sees a ``PinQueue``, sync a ``LogReplica`` and a ``PeerBook``, the chain sender a
``TxQueue``. One adapter may implement several roles over the tables it owns
(``SqliteLogStore`` is the entry log, its replica and the pin queue;
``SqliteChannelStore`` the channel book and the read marks); the composition root hands
each service the roles it asks for. Adapters implement these protocols; the services
never see a library type.
"""

from chatbox.ports.chain import (
    AnchorEvent,
    AnchorMarks,
    BatchBook,
    BatchRecord,
    Chain,
    ChainReader,
    ChainTx,
    Fees,
    PlannedBatch,
    Receipt,
    RegisteredChannel,
    SignedTx,
    TxQueue,
)
from chatbox.ports.console import (
    BoxControl,
    Terminal,
    WifiSetter,
)
from chatbox.ports.content import (
    AddedFile,
    ContentStore,
    DiskUsage,
    NodeIdentity,
    RepoStats,
)
from chatbox.ports.direct import ConversationBook, PeopleCards
from chatbox.ports.entries import (
    EntryLog,
    EntryRecord,
    EntryRelations,
    IndexedEntry,
    LogReplica,
    ModerationLog,
    PinQueue,
    PublicTextIndex,
    StoreHealth,
)
from chatbox.ports.peers import (
    DiscoveredBox,
    FilePins,
    PeerBook,
    PeerNetwork,
    PeerRecord,
    RemotePerson,
)
from chatbox.ports.people import (
    AccountBook,
    AccountRecord,
    ChannelBook,
    ChannelRecord,
    PeopleDirectory,
    PersonRecord,
    ReadMarks,
    Registration,
    SessionBook,
    SessionRecord,
)

__all__ = [
    "AccountBook",
    "AccountRecord",
    "AddedFile",
    "AnchorEvent",
    "AnchorMarks",
    "BatchBook",
    "BatchRecord",
    "BoxControl",
    "Chain",
    "ChainReader",
    "ChainTx",
    "ChannelBook",
    "ChannelRecord",
    "ContentStore",
    "ConversationBook",
    "DiscoveredBox",
    "DiskUsage",
    "EntryLog",
    "EntryRecord",
    "EntryRelations",
    "Fees",
    "FilePins",
    "IndexedEntry",
    "LogReplica",
    "ModerationLog",
    "NodeIdentity",
    "PeerBook",
    "PeerNetwork",
    "PeerRecord",
    "PeopleCards",
    "PeopleDirectory",
    "PersonRecord",
    "PinQueue",
    "PlannedBatch",
    "PublicTextIndex",
    "ReadMarks",
    "Receipt",
    "RegisteredChannel",
    "Registration",
    "RemotePerson",
    "RepoStats",
    "SessionBook",
    "SessionRecord",
    "SignedTx",
    "StoreHealth",
    "Terminal",
    "TxQueue",
    "WifiSetter",
]
