"""Gas per message: one transaction per message against batched anchoring; prints figures.

    .venv/bin/python scripts/bench_chain.py

Starts anvil, deploys ChatRegistry, then sends real transactions: first 100 anchors of a
single message each (one transaction per message), then one batch per combination of
10 / 100 / 1,000 / 10,000 messages across 1 / 10 / 100 channels. Each batch is built as
the node builds it: real signed envelopes chained per channel, salted leaves over the
channel heads, a signed manifest, and one ``anchor(root, manifest CID)`` transaction.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from eth_account import Account

from chatbox.adapters.chain import ChainClient
from chatbox.devstack import AnvilNode
from chatbox.domain import envelope, manifest, merkle
from chatbox.domain.cid import raw_cid
from chatbox.domain.identity import Identity
from chatbox.domain.sealing import new_key

SINGLE_ANCHORS = 100
MESSAGE_COUNTS = (10, 100, 1_000, 10_000)
CHANNEL_COUNTS = (1, 10, 100)


async def anchor(client: ChainClient, root: bytes, manifest_cid: str) -> int:
    """Send one anchor transaction; return its gas."""
    fees = await client.fees()
    signed = await client.sign_call(
        "anchor",
        [root, manifest_cid],
        await client.next_nonce(),
        2 * fees.base_fee + fees.priority_fee,
        fees.priority_fee,
    )
    await client.broadcast(signed.raw)
    while True:
        receipt = await client.receipt(signed.tx_hash)
        if receipt is not None:
            break
        await asyncio.sleep(0.01)
    assert receipt.success
    return receipt.gas_used


def build_batch(author: Identity, box: Identity, vault: bytes, messages: int, channels: int):
    """Heads of ``channels`` linear logs holding ``messages`` envelopes, as one batch."""
    heads: dict[str, str] = {}
    clocks: dict[str, int] = {}
    ids = [os.urandom(32).hex() for _ in range(channels)]
    for index in range(messages):
        channel = ids[index % channels]
        prev = [heads[channel]] if channel in heads else []
        clocks[channel] = clocks.get(channel, 0) + 1
        entry = envelope.create(
            author, channel, clocks[channel], prev, 1_700_000_000_000, {"text": f"m{index}"}
        )
        heads[channel] = entry.cid
    entries = [
        manifest.BatchEntry(
            channel, f"c{n}", "public", [heads[channel]], os.urandom(merkle.NONCE_LENGTH)
        )
        for n, channel in enumerate(ids)
    ]
    raw = manifest.build(box, vault, int(time.time()), entries)
    return merkle.root([entry.leaf for entry in entries]), raw_cid(raw), len(raw)


async def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        anvil = AnvilNode(Path(scratch) / "anvil").start()
        try:
            account = Account.create()
            deployer = ChainClient(anvil.rpc_url, "", account)
            await deployer.rpc("anvil_setBalance", [account.address, hex(10**21)])
            fees = await deployer.fees()
            registry = await deployer.deploy_registry(
                2 * fees.base_fee + fees.priority_fee, fees.priority_fee
            )
            await deployer.close()
            client = ChainClient(anvil.rpc_url, registry, account)
            author, box, vault = Identity.generate(), Identity.generate(), new_key()

            single = []
            for _ in range(SINGLE_ANCHORS):
                entry = envelope.create(author, "a" * 64, 1, [], 1_700_000_000_000, {"text": "x"})
                single.append(await anchor(client, merkle.keccak256(entry.cid.encode()), entry.cid))
            per_message = sum(single) / len(single)
            print(
                f"one transaction per message ({SINGLE_ANCHORS} sent): "
                f"{per_message:,.0f} gas per message, {SINGLE_ANCHORS} transactions"
            )
            print()
            print(
                f"{'messages':>9} {'channels':>9} {'txs':>4} {'gas/tx':>8} {'gas/message':>12} "
                f"{'vs per-message':>15} {'manifest bytes':>15}"
            )
            for messages in MESSAGE_COUNTS:
                for channels in CHANNEL_COUNTS:
                    if channels > messages:
                        continue
                    root, cid, size = build_batch(author, box, vault, messages, channels)
                    gas = await anchor(client, root, cid)
                    print(
                        f"{messages:>9,} {channels:>9} {1:>4} {gas:>8,} {gas / messages:>12,.1f} "
                        f"{per_message / (gas / messages):>14,.0f}x {size:>15,}"
                    )
            await client.close()
        finally:
            anvil.stop()


if __name__ == "__main__":
    asyncio.run(main())
