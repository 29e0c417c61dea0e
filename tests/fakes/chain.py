"""Fakes of the chain and of the box's transaction queue, for the chain sender's states."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from typing import Any

from chatbox.errors import ChainRejected
from chatbox.ports import ChainTx, Fees, Receipt, SignedTx


class FakeChain:
    """A chain that mines only when told, with fees and failures set by the test."""

    registry = "0x" + "52" * 20
    address = "0x" + "b0" * 20

    def __init__(self) -> None:
        self.fees_now = Fees(base_fee=10, priority_fee=1)
        self.blocks = 1
        self.nonce = 0  # the account's next nonce as mined
        self.pool: dict[str, SignedTx] = {}  # broadcast, not mined
        self.receipts: dict[str, Receipt] = {}
        self.broadcasts: list[bytes] = []
        self.reverts: set[str] = set()  # functions whose calls revert once mined
        self.refuses: set[str] = set()  # functions the node refuses to sign (would revert)

    def mine(self, blocks: int = 1) -> None:
        """Mine the pool into the next block, then ``blocks - 1`` empty ones."""
        self.blocks += 1
        for tx_hash, signed in sorted(self.pool.items(), key=lambda item: item[1].nonce):
            if signed.nonce == self.nonce:
                reverted = signed.raw.split(b":")[0].decode() in self.reverts
                self.receipts[tx_hash] = Receipt(self.blocks, not reverted, 21_000)
                self.nonce += 1
        self.pool.clear()
        self.blocks += blocks - 1

    def take_nonce(self) -> None:
        """Another wallet of the same account used the next nonce."""
        self.nonce += 1
        self.pool.clear()

    async def fees(self) -> Fees:
        return self.fees_now

    async def next_nonce(self) -> int:
        return self.nonce + len(self.pool)

    async def mined_nonce(self) -> int:
        return self.nonce

    async def sign_call(
        self, function: str, args: list[Any], nonce: int, max_fee: int, priority_fee: int
    ) -> SignedTx:
        if function in self.refuses:
            raise ChainRejected("the registry would revert this call", detail=function)
        raw = f"{function}:{args!r}:{nonce}:{max_fee}:{priority_fee}".encode()
        return SignedTx(raw, "0x" + hashlib.sha256(raw).hexdigest(), nonce)

    async def broadcast(self, raw: bytes) -> None:
        self.broadcasts.append(raw)
        tx_hash = "0x" + hashlib.sha256(raw).hexdigest()
        if tx_hash not in self.receipts:
            nonce = int(raw.split(b":")[-3])
            self.pool[tx_hash] = SignedTx(raw, tx_hash, nonce)

    async def receipt(self, tx_hash: str) -> Receipt | None:
        return self.receipts.get(tx_hash)

    async def block_number(self) -> int:
        return self.blocks


class FakeTxQueue:
    """The durable transaction queue, in memory, with the SQLite adapter's transitions."""

    def __init__(self) -> None:
        self.txs: dict[int, ChainTx] = {}
        self.errors: dict[int, str | None] = {}

    async def queue_tx(self, kind: str, args: list[Any]) -> int:
        tx_id = len(self.txs) + 1
        self.txs[tx_id] = ChainTx(tx_id, kind, args, "queued", None, None, None, None, 0, _now())
        return tx_id

    async def next_tx(self) -> ChainTx | None:
        open_txs = [tx for tx in self.txs.values() if tx.state in ("queued", "sent")]
        return min(open_txs, key=lambda tx: tx.id, default=None)

    async def tx_signed(self, tx_id: int, signed: SignedTx) -> None:
        tx = self.txs[tx_id]
        self._set(
            tx_id,
            None,
            state="sent",
            nonce=signed.nonce,
            tx_hash=signed.tx_hash,
            raw=signed.raw,
            attempts=tx.attempts + 1,
        )

    async def tx_requeued(self, tx_id: int, error: str) -> None:
        self._set(tx_id, error, state="queued", nonce=None, tx_hash=None, raw=None)

    async def tx_attempt_failed(self, tx_id: int, error: str) -> None:
        self._set(tx_id, error)

    async def tx_finished(
        self,
        tx_id: int,
        state: str,
        block_number: int | None,
        gas_used: int | None,
        error: str | None,
    ) -> None:
        self._set(tx_id, error, state=state, block_number=block_number, raw=None)

    async def tx_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for tx in self.txs.values():
            counts[tx.state] = counts.get(tx.state, 0) + 1
        return counts

    def age(self, tx_id: int, seconds: int) -> None:
        """Pretend the transaction's last change was ``seconds`` ago."""
        tx = self.txs[tx_id]
        self.txs[tx_id] = dataclasses.replace(tx, updated_at=tx.updated_at - seconds)

    def _set(self, tx_id: int, error: str | None, **changes: Any) -> None:
        self.txs[tx_id] = dataclasses.replace(self.txs[tx_id], updated_at=_now(), **changes)
        self.errors[tx_id] = error


def _now() -> int:
    return int(time.time())
