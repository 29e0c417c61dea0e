"""The seams the services depend on, and the plain records that cross them.

Adapters implement these protocols; the services never see a library type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from chatbox.domain.envelope import Envelope


@dataclass(frozen=True)
class AddedFile:
    cid: str
    dag_size: int


@dataclass(frozen=True)
class NodeIdentity:
    peer_id: str
    addresses: list[str]
    agent: str


@dataclass(frozen=True)
class DiskUsage:
    total: int  # bytes
    free: int  # bytes an unprivileged process may still write


@dataclass(frozen=True)
class RepoStats:
    repo_size: int
    storage_max: int
    pins: int  # recursive pins: one per outbox batch and one per file


@dataclass(frozen=True)
class AccountRecord:
    id: int
    name: str
    public_key: str
    sealing_public_key: str
    locked_keys: bytes
    is_admin: bool


@dataclass(frozen=True)
class PersonRecord:
    """An account as others see it: no keys."""

    id: int
    name: str
    public_key: str
    is_admin: bool
    last_seen: int


@dataclass(frozen=True)
class SessionRecord:
    account_id: int
    sealed_keys: bytes
    expires_at: int


@dataclass(frozen=True)
class ChannelRecord:
    id: str
    name: str
    visibility: str
    sealed_key: bytes | None


@dataclass(frozen=True)
class EntryRecord:
    """One indexed entry: what the UI shows without touching IPFS."""

    cid: str
    channel_id: str
    clock: int
    author: str
    ts: int
    body: str
    stored: bool
    anchored: bool = False


class ContentStore(Protocol):
    """Content-addressed storage with pinning: the IPFS node."""

    async def put_blocks(self, blocks: list[bytes]) -> str: ...
    async def get_block(self, cid: str, timeout: float | None = None) -> bytes: ...
    async def add_stream(self, chunks: AsyncIterator[bytes], name: str) -> AddedFile: ...
    def cat(self, cid: str) -> AsyncIterator[bytes]: ...
    async def identity(self) -> NodeIdentity: ...
    async def repo_stats(self) -> RepoStats: ...


class LogStore(Protocol):
    """Durable local state: accounts, channels, memberships, the message index, heads."""

    async def check_writable(self) -> None:
        """Unavailable unless a write would be committed now."""
        ...

    async def add_account(
        self,
        name: str,
        public_key: str,
        sealing_public_key: str,
        locked_keys: bytes,
        is_admin: bool,
    ) -> AccountRecord: ...
    async def account_by_name(self, name: str) -> AccountRecord | None: ...
    async def account_by_id(self, account_id: int) -> AccountRecord | None: ...
    async def account_count(self) -> int: ...
    async def accounts(self) -> list[AccountRecord]: ...
    async def memberships(self) -> list[tuple[int, str]]: ...
    async def add_channel(self, record: ChannelRecord) -> bool: ...
    async def channel(self, channel_id: str) -> ChannelRecord | None: ...
    async def join(self, account_id: int, channel_id: str) -> None: ...
    async def is_member(self, account_id: int, channel_id: str) -> bool: ...
    async def channels_of(self, account_id: int) -> list[ChannelRecord]: ...
    async def all_channels(self) -> list[ChannelRecord]: ...
    def append(
        self, entry: Envelope, body: str, file_cid: str | None, stored: bool
    ) -> Awaitable[bool]: ...
    async def heads(self, channel_id: str) -> list[tuple[str, int]]: ...
    async def page(
        self, channel_id: str, before: tuple[int, str] | None, limit: int
    ) -> list[EntryRecord]: ...
    async def entry(self, cid: str) -> EntryRecord | None: ...
    async def file_entries(self, file_cid: str) -> list[EntryRecord]: ...
    async def outbox(self, limit: int) -> list[tuple[str, bytes]]: ...
    async def mark_stored(self, cids: list[str]) -> None: ...
    async def pending_count(self) -> int: ...
    async def entry_count(self, channel_id: str) -> int: ...
    async def log_links(self, channel_id: str) -> dict[str, tuple[int, list[str]]]: ...
    async def envelopes(self, cids: list[str]) -> dict[str, bytes]: ...
    async def held(self, cids: list[str]) -> set[str]: ...
    async def dangling(self, channel_id: str) -> list[str]: ...
    async def replace_index(
        self, channel_id: str, entries: list[tuple[Envelope, str, str | None]]
    ) -> None: ...


class PeerNetwork(Protocol):
    """The IPFS node as a libp2p peer: swarm connections, pubsub, pinning others' content."""

    async def identity(self) -> NodeIdentity: ...
    async def swarm_connect(self, multiaddr: str) -> None: ...
    async def swarm_disconnect(self, multiaddr: str) -> None: ...
    async def swarm_peers(self) -> set[str]: ...
    async def publish(self, topic: str, data: bytes) -> None: ...
    def subscribe(self, topic: str) -> AsyncIterator[tuple[str, bytes]]: ...
    async def get_block(self, cid: str, timeout: float | None = None) -> bytes: ...
    async def pin(self, cid: str, timeout: float | None = None) -> None: ...


@dataclass(frozen=True)
class PeerRecord:
    """Another box in the buddy list."""

    peer_id: str  # libp2p peer id of its IPFS node
    box_key: str | None  # known once an announcement signed by it arrived
    name: str
    addresses: list[str]
    source: str  # 'mdns' | 'manual' | 'pubsub'
    last_seen: int  # unix seconds of its last valid announcement; 0 if never
    rejected: int  # invalid announcements or entries it sent


@dataclass(frozen=True)
class DiscoveredBox:
    """A box announced over mDNS: what its TXT record and address records said."""

    name: str  # its host label, e.g. chatbox-2
    box_key: str
    peer_id: str
    multiaddrs: list[str]  # dialable, each ending in /p2p/<peer_id>
    http_port: int
    version: str
    addresses: list[str]  # its LAN addresses


@dataclass(frozen=True)
class RemotePerson:
    """An author on another box, as that box named them."""

    public_key: str
    name: str
    box_name: str
    last_seen: int  # unix seconds of the newest of their entries that arrived


class PeerStore(Protocol):
    """The buddy list of boxes and the queue of peers' files to pin."""

    async def remember(
        self, peer_id: str, source: str, addresses: list[str], name: str
    ) -> None: ...
    async def heard(self, peer_id: str, box_key: str, name: str) -> None: ...
    async def rejected(self, peer_id: str) -> None: ...
    async def forget(self, peer_id: str) -> bool: ...
    async def peers(self) -> list[PeerRecord]: ...
    async def met(self, people: list[RemotePerson]) -> None: ...
    async def remote_people(self) -> list[RemotePerson]: ...
    async def want_files(self, files: list[tuple[str, str]]) -> None: ...
    async def files_to_pin(self, limit: int, retry_before: int) -> list[str]: ...
    async def file_pinned(self, cid: str, error: str | None) -> None: ...
    async def file_pin_counts(self) -> dict[str, int]: ...


class AccountStore(Protocol):
    """Durable state about people: sessions, sign-up codes, settings, read positions."""

    async def people(self) -> list[PersonRecord]: ...
    async def former_names(self) -> dict[str, str]: ...
    async def add_reset_code(self, code_hash: bytes, expires_at: int) -> None: ...
    async def rekey_with_code(
        self, code_hash: bytes, now: int, account_id: int, keys: tuple[str, str, bytes]
    ) -> bool: ...
    async def touch(self, account_id: int, when: int) -> None: ...
    async def add_session(
        self, token_hash: bytes, account_id: int, sealed_keys: bytes, expires_at: int
    ) -> None: ...
    async def session(self, token_hash: bytes, now: int) -> SessionRecord | None: ...
    async def delete_session(self, token_hash: bytes) -> None: ...
    async def setting(self, key: str) -> str | None: ...
    async def set_setting(self, key: str, value: str) -> None: ...
    async def add_signup_code(self, code_hash: bytes, created_by: int, expires_at: int) -> None: ...
    async def claim_signup_code(self, code_hash: bytes, now: int) -> bool: ...
    async def release_signup_code(self, code_hash: bytes) -> None: ...
    async def spend_signup_code(self, code_hash: bytes, account_id: int) -> None: ...
    async def mark_read(self, account_id: int, channel_id: str, clock: int) -> None: ...
    async def unread_counts(self, account_id: int) -> dict[str, int]: ...


@dataclass(frozen=True)
class Fees:
    base_fee: int  # wei per gas, of the latest block
    priority_fee: int  # wei per gas the node suggests as tip


@dataclass(frozen=True)
class SignedTx:
    raw: bytes
    tx_hash: str
    nonce: int


@dataclass(frozen=True)
class Receipt:
    block_number: int
    success: bool
    gas_used: int


@dataclass(frozen=True)
class AnchorEvent:
    box: str  # the anchoring box's chain address
    batch: int
    root: bytes
    manifest_cid: str
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class RegisteredChannel:
    id: str
    name: str
    creator: str


class ChainReader(Protocol):
    """What anyone can read from the chain: the registry's channels and anchors."""

    registry: str

    async def chain_id(self) -> int: ...
    async def block_number(self) -> int: ...
    async def has_registry(self) -> bool: ...
    async def anchors(self, box: str | None = None, from_block: int = 0) -> list[AnchorEvent]: ...
    async def public_channels(self) -> list[RegisteredChannel]: ...


class Chain(ChainReader, Protocol):
    """The chain as the box's account sees it: it signs and sends registry calls."""

    @property
    def address(self) -> str: ...
    async def balance(self, address: str) -> int: ...
    async def next_nonce(self) -> int: ...
    async def mined_nonce(self) -> int: ...
    async def fees(self) -> Fees: ...
    async def sign_call(
        self, function: str, args: list[Any], nonce: int, max_fee: int, priority_fee: int
    ) -> SignedTx: ...
    async def broadcast(self, raw: bytes) -> None: ...
    async def receipt(self, tx_hash: str) -> Receipt | None: ...


@dataclass(frozen=True)
class ChainTx:
    """A registry call in the box's transaction queue."""

    id: int
    kind: str  # 'anchor' | 'create_channel'
    args: list[Any]
    state: str  # 'queued' | 'sent' | 'confirmed' | 'failed'
    nonce: int | None
    tx_hash: str | None
    raw: bytes | None
    block_number: int | None
    attempts: int
    updated_at: int


@dataclass(frozen=True)
class PlannedBatch:
    """A batch ready to record: manifest, root and one leaf per changed channel."""

    root: bytes
    manifest_cid: str
    manifest: bytes
    leaves: list[tuple[str, list[str], bytes]]  # (channel id, heads, nonce) in leaf order


@dataclass(frozen=True)
class BatchRecord:
    id: int
    tx: ChainTx
    root: bytes
    manifest_cid: str
    manifest: bytes
    stored: bool
    leaves: list[tuple[str, list[str], bytes]]


class AnchorStore(Protocol):
    """The durable transaction queue and the record of anchored batches."""

    async def record_batch(
        self, plan: Callable[[dict[str, list[str]]], PlannedBatch | None]
    ) -> int | None: ...
    async def open_batch(self) -> BatchRecord | None: ...
    async def batch(self, batch_id: int) -> BatchRecord | None: ...
    async def covering_batch(self, cid: str) -> int | None: ...
    async def mark_manifest_stored(self, batch_id: int) -> None: ...
    async def queue_tx(self, kind: str, args: list[Any]) -> int: ...
    async def next_tx(self) -> ChainTx | None: ...
    async def tx_signed(self, tx_id: int, signed: SignedTx) -> None: ...
    async def tx_requeued(self, tx_id: int, error: str) -> None: ...
    async def tx_attempt_failed(self, tx_id: int, error: str) -> None: ...
    async def tx_finished(
        self,
        tx_id: int,
        state: str,
        block_number: int | None,
        gas_used: int | None,
        error: str | None,
    ) -> None: ...
    async def tx_counts(self) -> dict[str, int]: ...
    async def last_confirmed_anchor(self) -> BatchRecord | None: ...
    async def import_batch(
        self, event: AnchorEvent, manifest: bytes, leaves: list[tuple[str, list[str], bytes]]
    ) -> None: ...


class Terminal(Protocol):
    """A line-oriented terminal (the serial console); ``Disconnected`` when it goes away."""

    async def read_line(self, echo: bool = True) -> str: ...
    async def write(self, text: str) -> None: ...


class BoxControl(Protocol):
    """The running node, as the console reaches it: ``call("status")`` and the like."""

    async def call(self, command: str) -> Any: ...


class WifiSetter(Protocol):
    async def connect(self, ssid: str, passphrase: str) -> str: ...
