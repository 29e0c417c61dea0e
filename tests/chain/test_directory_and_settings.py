"""The public directory from the registry, registering channels, and the chain id check."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from aiohttp import web

from chatbox.adapters.chain import ChainClient
from chatbox.daemon import Node
from chatbox.devstack import AnvilNode, IpfsDaemon, free_port
from chatbox.domain.channels import public_channel
from chatbox.errors import ChainUnavailable, ChatboxError, ConfigError
from chatbox.services.accounts import Member
from tests.chain.conftest import chain_settings, funded_client
from tests.chain.test_anchoring import anchored_round
from tests.conftest import node_settings


async def test_a_wrong_chain_id_stops_start_up_naming_the_key(
    tmp_path: Path, ipfs_daemon: IpfsDaemon, anvil: AnvilNode, registry: str
) -> None:
    settings = dataclasses.replace(
        chain_settings(tmp_path / "n", ipfs_daemon, anvil, registry), chain_id=5
    )
    with pytest.raises(ConfigError) as stopped:
        await Node(settings).start()
    assert stopped.value.key == "chain_id" and "is chain 31337, not 5" in stopped.value.message


async def test_channels_of_other_boxes_are_listed_and_joinable_and_ours_are_registered(
    chain_node: Node, alice: Member, registry: str, anvil: AnvilNode
) -> None:
    other_box = await funded_client(anvil, registry)  # another box
    fees = await other_box.fees()
    signed = await other_box.sign_call(
        "createChannel",
        ["makerspace"],
        await other_box.next_nonce(),
        2 * fees.base_fee + fees.priority_fee,
        fees.priority_fee,
    )
    await other_box.broadcast(signed.raw)
    await other_box.close()
    services = chain_node.services
    await services.channels.create(alice, "general", "public")
    await anchored_round(chain_node)
    await services.directory.refresh()
    listed = {
        entry.channel.name: (entry.joined, entry.source)
        for entry in await services.channels.public_directory(alice)
    }
    assert listed == {"general": (True, "box"), "makerspace": (False, "chain")}
    assert services.channels.registry_state() == "connected, 2 channels listed"
    makerspace = public_channel("makerspace")
    await services.channels.join_public(alice, makerspace.id)
    message = await services.messages.post_text(alice, makerspace.id, "hello from another box")
    assert message.channel_id == makerspace.id
    assert services.chain is not None
    names = [channel.name for channel in await services.chain.public_channels()]
    assert names == ["makerspace", "general"]


async def test_an_rpc_urls_key_stays_out_of_errors_and_the_status_api(
    tmp_path: Path, ipfs_daemon: IpfsDaemon
) -> None:
    # A real HTTP server that answers as a provider does to a wrong key: 401.
    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=401, text="invalid API key")

    app = web.Application()
    app.router.add_post("/{tail:.*}", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/v2/SECRET-API-KEY"
    try:
        client = ChainClient(url, "")
        with pytest.raises(ChatboxError) as refused:
            await client.chain_id()
        await client.close()
        assert "SECRET-API-KEY" not in refused.value.message + refused.value.detail
        assert f"127.0.0.1:{port}/…" in refused.value.detail

        settings = node_settings(tmp_path / "n", ipfs_daemon.api_url, chain_rpc_url=url)
        node = Node(settings)
        await node.start()
        try:
            status = await node.services.status.status()
        finally:
            await node.stop()
        assert status["chain"]["rpc_url"] == f"http://127.0.0.1:{port}/…"
    finally:
        await runner.cleanup()


async def test_the_registry_state_goes_from_connecting_to_connected_or_unreachable(
    tmp_path: Path, ipfs_daemon: IpfsDaemon, anvil: AnvilNode, registry: str
) -> None:
    settings = chain_settings(tmp_path / "n", ipfs_daemon, anvil, registry)
    # The same registry behind an RPC address where nothing listens.
    unreachable = dataclasses.replace(
        settings, data_dir=tmp_path / "m", chain_rpc_url=f"http://127.0.0.1:{free_port()}"
    )
    for chosen, expected in ((settings, "connected, 0 channels listed"), (unreachable, None)):
        node = Node(chosen)
        await node.open()  # built only: no worker refreshes the listing behind the test
        try:
            assert node.services.channels.registry_state() == "connecting"
            if expected is not None:
                await node.services.directory.refresh()
                assert node.services.channels.registry_state() == expected
            else:
                with pytest.raises(ChainUnavailable):
                    await node.services.directory.refresh()
                state = node.services.channels.registry_state()
                assert state.startswith("not reachable (")
                assert state.endswith("showing what it listed before")
        finally:
            await node.stop()
