"""Anchoring rounds on a real anvil chain and Kubo, and proofs checked by ``chatbox verify``."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import aiohttp

from chatbox.adapters.chain import ChainClient
from chatbox.adapters.ipfs import IpfsClient
from chatbox.daemon import Node
from chatbox.devstack import AnvilNode, IpfsDaemon
from chatbox.domain.cid import raw_cid
from chatbox.services.accounts import Member
from tests.chain.conftest import FUNDS, chain_settings, start_chain_node

ROUNDS_TIMEOUT = 60.0


async def anchored_round(node: Node) -> None:
    """Ask for a batch and wait until no transaction is left open."""
    anchorer = node.services.anchorer
    assert anchorer is not None
    await node.services.outbox.drained()
    anchorer.request()
    asked_at = anchorer.rounds
    async with asyncio.timeout(ROUNDS_TIMEOUT):
        while True:
            await asyncio.sleep(0.05)
            if (
                anchorer.rounds > asked_at + 1
                and await node.services.anchor_queue.next_tx() is None
            ):
                return


def verify(anvil: AnvilNode, ipfs: IpfsDaemon, registry: str, cids: list[str], *extra: str):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "chatbox",
            "verify",
            *cids,
            "--rpc",
            anvil.rpc_url,
            "--registry",
            registry,
            "--ipfs",
            ipfs.api_url,
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


async def post_many(node: Node, member: Member, channel_id: str, count: int, tag: str) -> list[str]:
    cids = []
    for index in range(count):
        message = await node.services.messages.post_text(member, channel_id, f"{tag} {index}")
        cids.append(message.cid)
    return cids


async def test_one_round_anchors_three_channels_in_one_transaction_and_every_message_verifies(
    chain_node: Node,
    alice: Member,
    anvil: AnvilNode,
    ipfs_daemon: IpfsDaemon,
    registry: str,
    tmp_path: Path,
) -> None:
    services = chain_node.services
    general = await services.channels.create(alice, "general", "public")
    homework = await services.channels.create(alice, "homework", "public")
    secret = await services.channels.create(alice, "staff room", "private")
    await anchored_round(chain_node)  # registers the two public channels
    public_cids = await post_many(chain_node, alice, general.id, 200, "g")
    public_cids += await post_many(chain_node, alice, homework.id, 150, "h")
    private_cids = await post_many(chain_node, alice, secret.id, 150, "s")
    assert services.chain is not None
    before = await services.chain.anchors(box=services.chain.address)
    await anchored_round(chain_node)
    after = await services.chain.anchors(box=services.chain.address)
    assert len(after) - len(before) == 1
    batch = await services.anchor_queue.last_confirmed_anchor()
    assert batch is not None and len(batch.leaves) == 3

    page = await services.messages.history(alice, general.id, None, 5)
    assert all(message.anchored for message in page.messages)

    done = verify(anvil, ipfs_daemon, registry, public_cids)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("verified: anchored in block") == len(public_cids)

    # Private channels: the manifest hides them, so a member's proof is needed.
    unproven = verify(anvil, ipfs_daemon, registry, private_cids[:1])
    assert unproven.returncode == 4
    assert "no anchored batch of this registry names the message's channel" in unproven.stdout
    proof = await services.proofs.proof(alice, private_cids[0])
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(json.dumps(proof))
    done = verify(anvil, ipfs_daemon, registry, private_cids, "--proof", str(proof_file))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("verified") == len(private_cids)


async def test_tampering_and_a_wrong_registry_each_fail_with_their_reason(
    chain_node: Node,
    alice: Member,
    anvil: AnvilNode,
    ipfs_daemon: IpfsDaemon,
    registry: str,
    tmp_path: Path,
    deployer: ChainClient,
) -> None:
    services = chain_node.services
    general = await services.channels.create(alice, "general", "public")
    cids = await post_many(chain_node, alice, general.id, 5, "m")
    await anchored_round(chain_node)
    proof = await services.proofs.proof(alice, cids[2])

    # A message whose text was changed after signing: its signature no longer holds.
    async with aiohttp.ClientSession() as session:
        ipfs = IpfsClient(session, ipfs_daemon.api_url)
        fields = json.loads(await ipfs.get_block(cids[2]))
        fields["body"]["text"] = "m 2, edited"
        forged = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
        forged_cid = raw_cid(forged)
        await ipfs.put_blocks([forged])
        # A valid message never anchored: signed by alice, posted after the round.
        late = (await services.messages.post_text(alice, general.id, "late")).cid
        await services.outbox.drained()
        # A manifest changed after anchoring: a different CID that no event names.
        manifest = json.loads(await ipfs.get_block(proof["manifest"]))
        manifest["created"] += 1
        tampered = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        await ipfs.put_blocks([tampered])

    done = verify(anvil, ipfs_daemon, registry, [forged_cid])
    assert done.returncode == 4 and "the message itself is not valid" in done.stdout
    done = verify(anvil, ipfs_daemon, registry, [late])
    assert done.returncode == 4 and "not in the anchored history" in done.stdout

    proof_file = tmp_path / "proof.json"
    proof_file.write_text(json.dumps({**proof, "manifest": raw_cid(tampered)}))
    done = verify(anvil, ipfs_daemon, registry, [cids[2]], "--proof", str(proof_file))
    assert done.returncode == 4 and "no Anchored event" in done.stdout
    proof_file.write_text(json.dumps({**proof, "nonce": "00" * 32}))
    done = verify(anvil, ipfs_daemon, registry, [cids[2]], "--proof", str(proof_file))
    assert done.returncode == 4 and "not the leaf the batch anchored" in done.stdout

    fees = await deployer.fees()
    other = await deployer.deploy_registry(2 * fees.base_fee + fees.priority_fee, fees.priority_fee)
    done = verify(anvil, ipfs_daemon, other, cids)
    assert done.returncode == 4 and "no anchored batch of this registry" in done.stdout
    done = verify(anvil, ipfs_daemon, deployer.address, cids[:1])
    assert done.returncode == 4 and "there is no registry contract at" in done.stdout
    done = verify(anvil, ipfs_daemon, registry, cids)
    assert done.returncode == 0, done.stdout


async def test_with_the_chain_down_messages_flow_and_the_batch_is_anchored_once_it_returns(
    tmp_path: Path, ipfs_daemon: IpfsDaemon, registry: str, anvil: AnvilNode
) -> None:
    node = await start_chain_node(
        chain_settings(tmp_path / "n", ipfs_daemon, anvil, registry), anvil
    )
    try:
        services = node.services
        alice = await services.accounts.register("alice", "correct horse", is_admin=True)
        general = await services.channels.create(alice, "general", "public")
        await anchored_round(node)  # the registration, and the founding entry's batch
        assert services.chain is not None
        before = len(await services.chain.anchors(box=services.chain.address))
        anvil.stop()
        try:
            cids = await post_many(node, alice, general.id, 50, "while down")
            await services.outbox.drained()
            assert services.anchorer is not None
            services.anchorer.request()
            async with asyncio.timeout(30):
                while True:
                    if services.anchorer.last_error is not None:
                        break
                    await asyncio.sleep(0.05)
            assert "does not answer" in services.anchorer.last_error
            status = await services.status.status()
            assert status["chain"]["state"] == "unreachable"
            assert (await services.messages.history(alice, general.id, None, 100)).messages[
                -1
            ].cid == cids[-1]
        finally:
            anvil.start()
        await services.chain.rpc("anvil_setBalance", [services.chain.address, FUNDS])
        await anchored_round(node)
        events = await services.chain.anchors(box=services.chain.address)
        manifests = [event.manifest_cid for event in events]
        assert len(manifests) == len(set(manifests)) == before + 1  # once, not once a retry
        page = await services.messages.history(alice, general.id, None, 100)
        assert all(message.anchored for message in page.messages)
    finally:
        await node.stop()


async def test_a_worker_stopped_between_sending_and_the_receipt_never_sends_the_batch_twice(
    tmp_path: Path, ipfs_daemon: IpfsDaemon, registry: str, anvil: AnvilNode
) -> None:
    settings = chain_settings(tmp_path / "n", ipfs_daemon, anvil, registry)
    node = await start_chain_node(settings, anvil)
    assert node.services.chain is not None
    address = node.services.chain.address
    chain = ChainClient(anvil.rpc_url, registry)
    await chain.rpc("evm_setAutomine", [False])
    try:
        alice = await node.services.accounts.register("alice", "correct horse", is_admin=True)
        secret = await node.services.channels.create(alice, "private", "private")
        await post_many(node, alice, secret.id, 20, "p")
        await node.services.outbox.drained()
        assert node.services.anchorer is not None
        node.services.anchorer.request()
        async with asyncio.timeout(30):
            while True:
                tx = await node.services.anchor_queue.next_tx()
                if tx is not None and tx.state == "sent":
                    break
                await asyncio.sleep(0.05)
        await node.stop()  # the transaction is in the pool, its receipt not yet seen
        await chain.rpc("evm_mine", [])
        node = await start_chain_node(settings, anvil)
        await chain.rpc("evm_setAutomine", [True])
        await anchored_round(node)
        assert (await node.services.anchor_queue.tx_counts()) == {"confirmed": 1}
    finally:
        await chain.rpc("evm_setAutomine", [True])
        await node.stop()
    events = await chain.anchors(box=address)
    await chain.close()
    assert len(events) == 1


async def test_after_a_delete_every_anchored_message_still_verifies(
    chain_node: Node, alice: Member, anvil: AnvilNode, ipfs_daemon: IpfsDaemon, registry: str
) -> None:
    """A delete drops the words, not the signed envelope, so the anchored log stays whole."""
    services = chain_node.services
    general = await services.channels.create(alice, "general", "public")
    await anchored_round(chain_node)  # registers the channel
    cids = await post_many(chain_node, alice, general.id, 20, "said")
    await anchored_round(chain_node)
    for cid in cids[5:8]:
        await services.messages.delete(alice, cid)
    await services.outbox.drained()
    await services.outbox.flush()
    shown = [await services.messages.find(alice, cid) for cid in cids[5:8]]
    assert [message.deleted for message in shown] == [True, True, True]

    done = verify(anvil, ipfs_daemon, registry, cids)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("verified: anchored in block") == len(cids)
