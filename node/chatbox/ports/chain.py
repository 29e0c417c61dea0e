"""The chain registry, the box's transaction queue and its book of anchored batches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


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
    def signer_of(self, statement: str, proof: str) -> str | None:
        """The address whose EIP-191 signature of ``statement`` ``proof`` is, if any."""
        ...


class Chain(ChainReader, Protocol):
    """The chain as the box's account sees it: it signs and sends registry calls."""

    @property
    def address(self) -> str: ...
    def sign_statement(self, statement: str) -> str:
        """The box account's EIP-191 signature of ``statement`` (hex, 65 bytes)."""
        ...

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


class TxQueue(Protocol):
    """Registry transactions, sent one at a time from a durable queue."""

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


class AnchorMarks(Protocol):
    """Which messages an anchor on chain covers: the mark the chat shows."""

    async def confirmed_among(self, cids: list[str]) -> set[str]: ...


class BatchBook(Protocol):
    """Anchoring batches: their Merkle leaves, manifests and transactions."""

    async def record_batch(
        self, plan: Callable[[dict[str, list[str]]], PlannedBatch | None]
    ) -> int | None: ...
    async def open_batch(self) -> BatchRecord | None: ...
    async def batch(self, batch_id: int) -> BatchRecord | None: ...
    async def covering_batch(self, cid: str) -> int | None: ...
    async def mark_manifest_stored(self, batch_id: int) -> None: ...
    async def last_confirmed_anchor(self) -> BatchRecord | None: ...
    async def import_batch(
        self, event: AnchorEvent, manifest: bytes, leaves: list[tuple[str, list[str], bytes]]
    ) -> None: ...
