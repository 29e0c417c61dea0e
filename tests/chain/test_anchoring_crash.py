"""A power cut between sending the anchor and seeing its receipt: the node process is
killed, the transaction never reached a block, and the restarted node sends the very
same signed bytes again, so the batch is anchored once. Real processes, anvil and Kubo."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatbox.adapters.chain import ChainClient
from chatbox.devstack import AnvilNode, IpfsDaemon, free_port
from tests.chain.conftest import FUNDS
from tests.conftest import eventually
from tests.node_http import OwnerSession, first_answer

pytestmark = pytest.mark.slow
ANCHOR_SENT_TIMEOUT = 60.0
# The sender sends saved bytes again after REBROADCAST_AFTER (30 s) without a receipt.
RESENT_TIMEOUT = 90.0


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as errors:
        return subprocess.Popen(
            [sys.executable, "-m", "chatbox", "--config", "/nonexistent", "run"],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )


def _anchor_txs(data_dir: Path) -> list[tuple[str, str | None, bytes | None]]:
    with sqlite3.connect(f"file:{data_dir / 'chatbox.db'}?mode=ro", uri=True) as connection:
        query = "SELECT state, tx_hash, raw FROM chain_txs WHERE kind = 'anchor' ORDER BY id"
        return list(connection.execute(query))


def _open_txs(data_dir: Path) -> int:
    with sqlite3.connect(f"file:{data_dir / 'chatbox.db'}?mode=ro", uri=True) as connection:
        query = "SELECT count(*) FROM chain_txs WHERE state IN ('queued', 'sent')"
        return int(connection.execute(query).fetchone()[0])


@pytest.fixture
async def automine_restored(anvil: AnvilNode, registry: str) -> AsyncIterator[None]:
    """The shared chain mines by itself again afterwards, even if this test fails."""
    yield
    chain = ChainClient(anvil.rpc_url, registry)
    await chain.rpc("evm_setAutomine", [True])
    await chain.close()


@pytest.mark.usefixtures("automine_restored")
async def test_sigkill_after_broadcast_resends_the_same_bytes_and_anchors_once(
    tmp_path: Path, ipfs_daemon: IpfsDaemon, anvil: AnvilNode, registry: str
) -> None:
    data_dir = tmp_path / "box"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "CHATBOX_DATA_DIR": str(data_dir),
        "CHATBOX_HTTP_HOST": "127.0.0.1",
        "CHATBOX_HTTP_PORT": str(port),
        "CHATBOX_IPFS_API": ipfs_daemon.api_url,
        "CHATBOX_CHAIN_RPC_URL": anvil.rpc_url,
        "CHATBOX_CHAIN_ID": str(anvil.chain_id),
        "CHATBOX_REGISTRY_ADDRESS": registry,
        "CHATBOX_ANCHOR_INTERVAL": "3600",
        "CHATBOX_ANCHOR_CONFIRMATIONS": "1",
    }
    chain = ChainClient(anvil.rpc_url, registry)
    log = tmp_path / "node.log"
    first = _start(env, log)
    try:
        await asyncio.to_thread(first_answer, first, base + "/healthz")
        # Private, so no registration of its name goes to the chain before the anchor.
        owner = await asyncio.to_thread(OwnerSession, base, "staff", "private")
        address = (await asyncio.to_thread(owner.get, "/api/v1/status"))["chain"]["address"]
        await chain.rpc("anvil_setBalance", [address, FUNDS])
        for number in range(5):
            path = f"/api/v1/channels/{owner.channel}/messages"
            await asyncio.to_thread(owner.post, path, {"text": f"to be anchored {number}"})

        async def registered() -> bool:  # set-up's #general goes to the registry first
            return _open_txs(data_dir) == 0

        await eventually(registered, ANCHOR_SENT_TIMEOUT, "#general registered")
        await chain.rpc("evm_setAutomine", [False])
        accepted = await asyncio.to_thread(owner.post, "/api/v1/admin/anchor")
        assert accepted == {"ok": True}

        async def sent() -> bool:
            return any(state == "sent" for state, _, _ in _anchor_txs(data_dir))

        await eventually(sent, ANCHOR_SENT_TIMEOUT, "the anchor broadcast")
    finally:
        first.send_signal(signal.SIGKILL)  # the power cut
        first.wait()
    [(_, tx_hash, raw)] = _anchor_txs(data_dir)
    assert tx_hash is not None and raw
    # As if the broadcast never reached the chain: the pool forgets it.
    await chain.rpc("anvil_dropAllTransactions", [])
    assert await chain.rpc("eth_getTransactionByHash", [tx_hash]) is None

    second = _start(env, log)
    try:
        await asyncio.to_thread(first_answer, second, base + "/healthz")

        async def resent() -> bool:
            return await chain.rpc("eth_getTransactionByHash", [tx_hash]) is not None

        await eventually(resent, RESENT_TIMEOUT, "the same transaction sent again")
        await chain.rpc("evm_mine", [])
        await chain.rpc("evm_setAutomine", [True])

        async def confirmed() -> bool:
            return [state for state, _, _ in _anchor_txs(data_dir)] == ["confirmed"]

        await eventually(confirmed, 30, "the anchor confirmed")
    finally:
        await chain.rpc("evm_setAutomine", [True])
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    events = await chain.anchors(box=address)
    await chain.close()
    assert [event.tx_hash for event in events] == [tx_hash]
