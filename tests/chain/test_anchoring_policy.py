"""The owner's anchoring settings on a real anvil chain: the fee ceiling, confirmations,
the interval timer, and the funding hint when the box's account runs low."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from chatbox.daemon import Node
from chatbox.devstack import AnvilNode, IpfsDaemon
from tests.chain.conftest import chain_settings, start_chain_node
from tests.chain.test_anchoring import post_many
from tests.conftest import eventually


async def _posts_then_asks_to_anchor(node: Node) -> None:
    assert node.services.anchorer is not None
    await _owner_posts(node)
    node.services.anchorer.request()


async def _owner_posts(node: Node, count: int = 3) -> None:
    alice = await node.services.accounts.register("alice", "correct horse", is_admin=True)
    # Private: a public channel's registration on chain would go out first.
    general = await node.services.channels.create(alice, "staff", "private")
    await post_many(node, alice, general.id, count, "m")
    await node.services.outbox.drained()


def _transactions(data_dir: Path, kind: str = "anchor") -> list[tuple[str, str | None]]:
    """(state, last error) of the box's transactions of ``kind``, oldest first."""
    with sqlite3.connect(f"file:{data_dir / 'chatbox.db'}?mode=ro", uri=True) as connection:
        query = "SELECT state, last_error FROM chain_txs WHERE kind = ? ORDER BY id"
        return list(connection.execute(query, (kind,)))


def _states(data_dir: Path, kind: str = "anchor") -> list[str]:
    return [state for state, _ in _transactions(data_dir, kind)]


def _until(check: Callable[[], bool], what: str) -> Awaitable[None]:
    async def holds() -> bool:
        return check()

    return eventually(holds, 20.0, what)


@contextlib.asynccontextmanager
async def _box(
    tmp_path: Path, ipfs: IpfsDaemon, anvil: AnvilNode, registry: str, **settings: object
) -> AsyncIterator[tuple[Node, Path]]:
    """A funded node on the chain with ``settings`` changed; yields it and its data dir."""
    chosen = dataclasses.replace(chain_settings(tmp_path / "n", ipfs, anvil, registry), **settings)
    node = await start_chain_node(chosen, anvil)
    try:
        yield node, chosen.data_dir
    finally:
        await node.stop()


async def test_fees_above_the_ceiling_send_nothing_and_say_why(
    tmp_path: Path, ipfs_daemon: IpfsDaemon, registry: str, anvil: AnvilNode
) -> None:
    async with _box(tmp_path, ipfs_daemon, anvil, registry, gas_ceiling=1) as (
        node,
        data_dir,
    ):
        await _posts_then_asks_to_anchor(node)
        await _until(
            lambda: any(e for _, e in _transactions(data_dir)),
            "the fee check",
        )
        [(state, error)] = _transactions(data_dir)
        assert state == "queued"
        assert error is not None and "above the ceiling of 1" in error
        # Nothing went to the chain: the box's account has not used a nonce.
        assert node.services.chain is not None
        assert await node.services.chain.next_nonce() == 0


async def test_a_transaction_counts_only_once_buried_under_the_confirmations(
    tmp_path: Path, ipfs_daemon: IpfsDaemon, registry: str, anvil: AnvilNode
) -> None:
    async with _box(tmp_path, ipfs_daemon, anvil, registry, anchor_confirmations=3) as (
        node,
        data_dir,
    ):
        await _posts_then_asks_to_anchor(node)
        # Automine puts it in a block at once: the worker sees one block of three.
        await _until(lambda: _states(data_dir) == ["sent"], "the anchor sent")
        await asyncio.sleep(1.0)  # ten polls of the worker
        assert _states(data_dir) == ["sent"]
        assert node.services.chain is not None
        for _ in range(2):
            await node.services.chain.rpc("evm_mine", [])
        await _until(lambda: _states(data_dir) == ["confirmed"], "the confirmation")


async def test_the_interval_timer_anchors_without_being_asked(
    tmp_path: Path, ipfs_daemon: IpfsDaemon, registry: str, anvil: AnvilNode
) -> None:
    async with _box(tmp_path, ipfs_daemon, anvil, registry, anchor_interval=2) as (
        node,
        data_dir,
    ):
        await asyncio.sleep(0.5)  # the round at start found nothing to anchor
        assert _states(data_dir) == []
        await _owner_posts(node)
        await _until(lambda: _states(data_dir) == ["confirmed"], "an anchor on the timer")


async def test_a_box_running_low_is_told_how_much_to_send(
    tmp_path: Path, ipfs_daemon: IpfsDaemon, registry: str, anvil: AnvilNode
) -> None:
    async with _box(tmp_path, ipfs_daemon, anvil, registry) as (node, _):
        assert node.services.chain is not None
        address = node.services.chain.address
        funded = (await node.services.status.status())["chain"]
        assert "funding_hint" not in funded
        await node.services.chain.rpc("anvil_setBalance", [address, hex(1000)])
        low = (await node.services.status.status())["chain"]
        assert low["balance_wei"] == 1000
        assert low["funding_hint"].startswith("send at least ")
        assert address in low["funding_hint"]
