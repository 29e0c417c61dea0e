"""The chain sender's states, queued to sent to confirmed or failed, on fakes.

The fast tier: ``ChainSender`` is the box's own, the chain and the transaction queue are
in-memory fakes. ``tests/chain`` runs the same sender on anvil and SQLite, crash included.
"""

from __future__ import annotations

from chatbox.ports import Fees
from chatbox.services.chain_sender import REBROADCAST_AFTER, ChainSender, FeePolicy
from tests.fakes.chain import FakeChain, FakeTxQueue

ROOT = "ab" * 32


def sender(
    confirmations: int = 1, ceiling: int = 100
) -> tuple[ChainSender, FakeChain, FakeTxQueue]:
    chain, txs = FakeChain(), FakeTxQueue()
    return ChainSender(chain, txs, FeePolicy(ceiling, confirmations)), chain, txs


async def test_a_transaction_goes_queued_sent_confirmed() -> None:
    send, chain, txs = sender()
    tx_id = await txs.queue_tx("anchor", [ROOT, "bafyexample"])

    await send.step()
    sent = txs.txs[tx_id]
    assert (sent.state, sent.nonce, sent.attempts) == ("sent", 0, 1)
    assert chain.broadcasts == [sent.raw]
    await send.step()  # no receipt yet, too early to send again
    assert txs.txs[tx_id].state == "sent" and len(chain.broadcasts) == 1

    chain.mine()
    await send.step()
    done = txs.txs[tx_id]
    assert (done.state, done.block_number, done.raw) == ("confirmed", chain.blocks, None)
    assert await txs.next_tx() is None


async def test_the_fee_follows_the_base_fee_under_the_ceiling() -> None:
    send, chain, txs = sender(ceiling=25)
    chain.fees_now = Fees(base_fee=20, priority_fee=2)
    await txs.queue_tx("anchor", [ROOT, "bafyexample"])
    await send.step()
    # 2 x base + tip would be 42; the owner allows 25.
    assert chain.broadcasts[0].endswith(b":0:25:2")


async def test_fees_above_the_ceiling_send_nothing_and_say_why() -> None:
    send, chain, txs = sender(ceiling=5)
    tx_id = await txs.queue_tx("anchor", [ROOT, "bafyexample"])
    await send.step()
    assert chain.broadcasts == [] and txs.txs[tx_id].state == "queued"
    assert txs.errors[tx_id] == "fees of 11 wei/gas are above the ceiling of 5"

    chain.fees_now = Fees(base_fee=2, priority_fee=1)  # fees fell
    await send.step()
    assert txs.txs[tx_id].state == "sent"


async def test_the_same_signed_bytes_go_out_again_when_no_receipt_comes() -> None:
    send, chain, txs = sender()
    tx_id = await txs.queue_tx("anchor", [ROOT, "bafyexample"])
    await send.step()
    chain.pool.clear()  # the node forgot it (a restart, a full pool)
    txs.age(tx_id, REBROADCAST_AFTER)
    await send.step()
    assert chain.broadcasts == [txs.txs[tx_id].raw] * 2
    assert txs.errors[tx_id] == "no receipt yet; sent again"
    chain.mine()
    await send.step()
    assert txs.txs[tx_id].state == "confirmed"


async def test_a_nonce_taken_by_another_transaction_is_signed_anew() -> None:
    send, chain, txs = sender()
    tx_id = await txs.queue_tx("anchor", [ROOT, "bafyexample"])
    await send.step()
    first = txs.txs[tx_id].raw
    chain.take_nonce()
    await send.step()
    assert txs.txs[tx_id].state == "queued"
    assert txs.errors[tx_id] == "its nonce was taken by another transaction"
    await send.step()
    again = txs.txs[tx_id]
    assert again.state == "sent" and again.nonce == 1 and again.raw != first


async def test_confirmations_wait_until_buried_deep_enough() -> None:
    send, chain, txs = sender(confirmations=3)
    tx_id = await txs.queue_tx("anchor", [ROOT, "bafyexample"])
    await send.step()
    chain.mine()
    await send.step()
    assert txs.txs[tx_id].state == "sent"  # one block deep
    chain.mine(blocks=2)
    await send.step()
    assert txs.txs[tx_id].state == "confirmed"


async def test_a_reverted_or_refused_call_fails_and_the_next_goes() -> None:
    send, chain, txs = sender()
    chain.reverts.add("anchor")
    chain.refuses.add("createChannel")
    reverted = await txs.queue_tx("anchor", [ROOT, "bafyexample"])
    refused = await txs.queue_tx("create_channel", ["general"])
    after = await txs.queue_tx("anchor", [ROOT, "bafyother"])

    await send.step()
    chain.mine()
    await send.step()
    assert (txs.txs[reverted].state, txs.errors[reverted]) == ("failed", "reverted on chain")
    await send.step()
    assert txs.txs[refused].state == "failed" and txs.txs[refused].nonce is None
    assert txs.errors[refused].startswith("the registry would revert this call")
    chain.reverts.clear()
    await send.step()
    chain.mine()
    await send.step()
    assert txs.txs[after].state == "confirmed"
