"""A real anvil chain with a freshly deployed registry, and nodes that anchor on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from chatbox.adapters.chain import ChainClient
from chatbox.config import Settings
from chatbox.daemon import Node
from chatbox.devstack import AnvilNode, IpfsDaemon
from chatbox.services.sync import DEFAULT_SYNC_TIMING, SyncTiming
from tests.conftest import FAST_OUTBOX, TEST_PASSWORD_COST, node_settings

FUNDS = hex(10**20)


@pytest.fixture(scope="session")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnvilNode]:
    node = AnvilNode(tmp_path_factory.mktemp("anvil")).start()
    yield node
    node.stop()


async def funded_client(anvil: AnvilNode, registry: str = "") -> ChainClient:
    """A chain client with a new account that anvil has funded."""
    account: LocalAccount = Account.create()
    client = ChainClient(anvil.rpc_url, registry, account)
    await client.rpc("anvil_setBalance", [account.address, FUNDS])
    return client


@pytest.fixture
async def deployer(anvil: AnvilNode) -> AsyncIterator[ChainClient]:
    client = await funded_client(anvil)
    yield client
    await client.close()


@pytest.fixture
async def registry(deployer: ChainClient) -> str:
    """The address of a registry deployed for this test alone."""
    fees = await deployer.fees()
    return await deployer.deploy_registry(2 * fees.base_fee + fees.priority_fee, fees.priority_fee)


def chain_settings(data_dir: Path, ipfs: IpfsDaemon, anvil: AnvilNode, registry: str) -> Settings:
    return node_settings(
        data_dir,
        ipfs.api_url,
        chain_rpc_url=anvil.rpc_url,
        chain_id=anvil.chain_id,
        registry_address=registry,
        anchor_interval=3600,
        anchor_confirmations=1,
    )


async def start_chain_node(
    settings: Settings, anvil: AnvilNode, sync_timing: SyncTiming = DEFAULT_SYNC_TIMING
) -> Node:
    """A node on the chain whose box account anvil has funded."""
    node = Node(
        settings,
        password_cost=TEST_PASSWORD_COST,
        outbox_timing=FAST_OUTBOX,
        anchor_poll=0.1,
        sync_timing=sync_timing,
    )
    await node.start()
    assert node.services.chain is not None
    await node.services.chain.rpc("anvil_setBalance", [node.services.chain.address, FUNDS])
    return node


@pytest.fixture
async def chain_node(
    tmp_path: Path, ipfs_daemon: IpfsDaemon, anvil: AnvilNode, registry: str
) -> AsyncIterator[Node]:
    node = await start_chain_node(
        chain_settings(tmp_path / "node", ipfs_daemon, anvil, registry), anvil
    )
    yield node
    await node.stop()
