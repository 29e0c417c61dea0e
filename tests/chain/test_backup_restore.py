"""Backup, wipe, restore: every channel's anchored history comes back and still verifies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from chatbox.adapters.chain import ChainClient
from chatbox.adapters.ipfs import IpfsClient
from chatbox.daemon import Node
from chatbox.devstack import AnvilNode, IpfsDaemon
from chatbox.errors import Forbidden, Unauthorized
from chatbox.services.proofs import Verifier
from tests.chain.conftest import chain_settings, start_chain_node
from tests.chain.test_anchoring import anchored_round, post_many

PASSPHRASE = "a long backup passphrase"


def chatbox(command: list[str], data_dir: Path, ipfs: IpfsDaemon, anvil: AnvilNode, registry: str):
    env = {
        **os.environ,
        "CHATBOX_DATA_DIR": str(data_dir),
        "CHATBOX_IPFS_API": ipfs.api_url,
        "CHATBOX_CHAIN_RPC_URL": anvil.rpc_url,
        "CHATBOX_CHAIN_ID": str(anvil.chain_id),
        "CHATBOX_REGISTRY_ADDRESS": registry,
    }
    return subprocess.run(
        [sys.executable, "-m", "chatbox", "--config", str(data_dir / "absent.toml"), *command],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


async def all_messages(node: Node, member, channel_id: str) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    page = await node.services.messages.history(member, channel_id, None, 200)
    return [(message.cid, message.text) for message in page.messages]


async def test_backup_wipe_restore_brings_every_channel_back_and_it_verifies(
    tmp_path: Path, ipfs_daemon: IpfsDaemon, anvil: AnvilNode, registry: str
) -> None:
    settings = chain_settings(tmp_path / "box", ipfs_daemon, anvil, registry)
    node = await start_chain_node(settings, anvil)
    try:
        services = node.services
        alice = await services.accounts.register("alice", "correct horse", is_admin=True)
        bob = await services.accounts.register("bob", "battery staple")
        general = await services.channels.create(alice, "general", "public")
        await services.channels.join_public(bob, general.id)
        staff = await services.channels.create(alice, "Staff Room", "private")
        chat = await services.conversations.start(alice, [bob.identity.public_key])
        alice = await services.sessions.rename(alice, "Alice Ng")
        await post_many(node, alice, general.id, 40, "hello")
        await post_many(node, bob, general.id, 10, "hi")
        await services.accounts.register("carol", "carol's password")
        dave = await services.accounts.register("dave", "dave's password")
        await services.channels.join_public(dave, general.id)
        await post_many(node, dave, general.id, 1, "bye")
        await services.sessions.set_account_state(alice, "carol", "disabled")
        await services.sessions.remove_account(alice, "dave")
        await anchored_round(node)
        await post_many(node, alice, staff.id, 30, "secret")
        await anchored_round(node)
        before = {
            general.id: await all_messages(node, alice, general.id),
            staff.id: await all_messages(node, alice, staff.id),
        }
        backup_file = tmp_path / "box.backup"
        backup_file.write_bytes(await node.export_backup(PASSPHRASE))
    finally:
        await node.stop()
    assert PASSPHRASE.encode() not in backup_file.read_bytes()
    assert b"staff" not in backup_file.read_bytes().lower()

    passphrase_file = tmp_path / "passphrase"
    wrong_file = tmp_path / "wrong"
    passphrase_file.write_text(PASSPHRASE + "\n")
    wrong_file.write_text("not the passphrase\n")
    restored_dir = tmp_path / "restored"

    def restore(passphrase: Path, data_dir: Path):  # type: ignore[no-untyped-def]
        command = ["restore", str(backup_file), "--passphrase-file", str(passphrase)]
        return chatbox(command, data_dir, ipfs_daemon, anvil, registry)

    refused = restore(wrong_file, restored_dir)
    assert refused.returncode == 1 and "password" in refused.stderr.lower(), refused.stderr
    refused = restore(passphrase_file, settings.data_dir)
    assert refused.returncode == 2 and "restore needs an empty box" in refused.stderr

    done = restore(passphrase_file, restored_dir)
    assert done.returncode == 0, done.stderr
    assert "from 2 anchored batches" in done.stdout

    restored = await start_chain_node(
        chain_settings(restored_dir, ipfs_daemon, anvil, registry), anvil
    )
    try:
        services = restored.services
        alice = await services.accounts.unlock("alice", "correct horse")
        bob = await services.accounts.unlock("bob", "battery staple")
        # An account switched off stays off, and a removed one stays removed and named.
        with pytest.raises(Forbidden):
            await services.accounts.unlock("carol", "carol's password")
        with pytest.raises(Unauthorized):
            await services.accounts.unlock("dave", "dave's password")
        assert (await services.accounts.names())[dave.identity.public_key] == "dave"
        # Titles and display names come back with the channels and accounts.
        assert (await services.channels.get(staff.id)).title == "Staff Room"
        # A direct conversation comes back as one, between the same two people.
        assert [c.members for c in await services.conversations.of(bob)] == [chat.members]
        assert (await services.accounts.names())[alice.identity.public_key] == "Alice Ng"
        assert await all_messages(restored, alice, general.id) == before[general.id]
        assert await all_messages(restored, bob, general.id) == before[general.id]
        assert await all_messages(restored, alice, staff.id) == before[staff.id]
        page = await services.messages.history(alice, staff.id, None, 200)
        assert all(message.anchored for message in page.messages)
        async with aiohttp.ClientSession() as session:
            verifier = Verifier(
                IpfsClient(session, ipfs_daemon.api_url), ChainClient(anvil.rpc_url, registry)
            )
            for channel_id, messages in before.items():
                for cid, _ in messages:
                    proof = await services.proofs.proof(alice, cid)
                    assert (await verifier.verify(cid, proof)).channel == channel_id
    finally:
        await restored.stop()
