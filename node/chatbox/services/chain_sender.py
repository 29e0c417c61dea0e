"""Registry transactions, sent one at a time from a durable queue.

A transaction is signed, saved, and only then broadcast; after a crash the saved bytes
are broadcast again (the node treats a repeat as the same transaction), so a batch is
never sent as two transactions. Nonces come from the chain (one transaction in flight),
fees follow the latest base fee under the owner's ceiling, and a transaction counts as
done once it is buried under the configured number of blocks.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from chatbox.errors import ChainRejected
from chatbox.ports import Chain, ChainTx, TxQueue

log = logging.getLogger(__name__)
REBROADCAST_AFTER = 30  # seconds without a receipt before the saved bytes go out again


@dataclass(frozen=True)
class FeePolicy:
    ceiling: int  # wei per gas the owner allows at most
    confirmations: int  # blocks, counting the one that includes the transaction


class ChainSender:
    def __init__(self, chain: Chain, txs: TxQueue, policy: FeePolicy) -> None:
        self._chain = chain
        self._txs = txs
        self._policy = policy
        self._registered = False  # a channel's registration confirmed since last asked

    def take_registered(self) -> bool:
        """Whether a channel's registration confirmed since the last call: the directory
        then reads the registry at once, for the channel's founders to count."""
        registered, self._registered = self._registered, False
        return registered

    async def step(self) -> None:
        """Advance the oldest open transaction by one stage."""
        tx = await self._txs.next_tx()
        if tx is None:
            return
        if tx.state == "queued":
            await self._send(tx)
        else:
            await self._follow(tx)

    async def _send(self, tx: ChainTx) -> None:
        fees = await self._chain.fees()
        lowest = fees.base_fee + fees.priority_fee
        if lowest > self._policy.ceiling:
            await self._txs.tx_attempt_failed(
                tx.id, f"fees of {lowest} wei/gas are above the ceiling of {self._policy.ceiling}"
            )
            return
        max_fee = min(2 * fees.base_fee + fees.priority_fee, self._policy.ceiling)
        nonce = await self._chain.next_nonce()
        function = "anchor" if tx.kind == "anchor" else "createChannel"
        args: list[object] = list(tx.args)
        if tx.kind == "anchor":
            args = [bytes.fromhex(str(tx.args[0])), str(tx.args[1])]
        try:
            signed = await self._chain.sign_call(function, args, nonce, max_fee, fees.priority_fee)
        except ChainRejected as exc:
            # The registry would revert it (for example a name another box took first).
            log.warning("registry call %s dropped: %s (%s)", function, exc.message, exc.detail)
            await self._txs.tx_finished(tx.id, "failed", None, None, f"{exc.message}: {exc.detail}")
            return
        await self._txs.tx_signed(tx.id, signed)
        await self._chain.broadcast(signed.raw)
        log.info("sent %s transaction %s (nonce %d)", tx.kind, signed.tx_hash, nonce)

    async def _follow(self, tx: ChainTx) -> None:
        assert tx.tx_hash is not None and tx.nonce is not None and tx.raw is not None
        receipt = await self._chain.receipt(tx.tx_hash)
        if receipt is None:
            if await self._chain.mined_nonce() > tx.nonce:
                # Our nonce was used, maybe by us just now: look once more before resigning.
                receipt = await self._chain.receipt(tx.tx_hash)
                if receipt is None:
                    await self._txs.tx_requeued(tx.id, "its nonce was taken by another transaction")
                    return
            else:
                if time.time() - tx.updated_at >= REBROADCAST_AFTER:
                    await self._chain.broadcast(tx.raw)
                    await self._txs.tx_attempt_failed(tx.id, "no receipt yet; sent again")
                return
        if not receipt.success:
            await self._txs.tx_finished(
                tx.id, "failed", receipt.block_number, receipt.gas_used, "reverted on chain"
            )
            return
        depth = await self._chain.block_number() - receipt.block_number + 1
        if depth >= self._policy.confirmations:
            await self._txs.tx_finished(
                tx.id, "confirmed", receipt.block_number, receipt.gas_used, None
            )
            self._registered = self._registered or tx.kind == "create_channel"
            log.info(
                "%s transaction %s confirmed in block %d", tx.kind, tx.tx_hash, receipt.block_number
            )
