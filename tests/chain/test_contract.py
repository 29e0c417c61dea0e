"""ChatRegistry on anvil through web3.py: every function, revert and event."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractCustomError

from chatbox.adapters.chain import registry_artifact
from chatbox.devstack import AnvilNode
from chatbox.domain.channels import public_channel
from chatbox.errors import ChainRejected
from tests.chain.conftest import funded_client

ROOT = Path(__file__).resolve().parents[2]
ABI = registry_artifact()["abi"]


def test_recompiling_with_the_pinned_solc_gives_the_committed_artifacts() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compile_contracts.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def web3(anvil: AnvilNode) -> Web3:
    return Web3(Web3.HTTPProvider(anvil.rpc_url))


@pytest.fixture
def signer(web3: Web3) -> str:
    account = Account.create()
    web3.provider.make_request("anvil_setBalance", [account.address, hex(10**20)])  # type: ignore[arg-type]
    web3.provider.make_request("anvil_impersonateAccount", [account.address])  # type: ignore[arg-type]
    return str(account.address)


@pytest.fixture
def contract(web3: Web3, registry: str):  # type: ignore[no-untyped-def]
    return web3.eth.contract(address=Web3.to_checksum_address(registry), abi=ABI)


def send(web3: Web3, call, sender: str):  # type: ignore[no-untyped-def]
    receipt = web3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))
    assert receipt["status"] == 1
    return receipt


def reverts_with(call, sender: str, error: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ContractCustomError) as raised:
        call.estimate_gas({"from": sender})
    selector = Web3.keccak(text=error)[:4].hex().removeprefix("0x")
    assert selector in str(raised.value), (error, str(raised.value))


def test_create_list_and_read_channels_with_events(web3: Web3, contract, signer: str) -> None:  # type: ignore[no-untyped-def]
    names = [public_channel(name).name for name in ("general", "homework", "café du lundi")]
    for name in names:
        receipt = send(web3, contract.functions.createChannel(name), signer)
        (event,) = contract.events.ChannelCreated().process_receipt(receipt)
        assert event["args"]["name"] == name and event["args"]["creator"] == signer
        assert event["args"]["id"].hex() == public_channel(name).id
    assert contract.functions.channelCount().call() == 3
    page = contract.functions.listChannels(1, 5).call()
    assert [row[1] for row in page] == names[1:]
    assert contract.functions.listChannels(3, 5).call() == []
    assert len(contract.functions.listChannels(0, 1000).call()) == 3  # capped, not reverted
    one = contract.functions.channel(bytes.fromhex(public_channel("general").id)).call()
    assert one[1] == "general" and one[2] == signer and one[4] == 0


def test_create_channel_reverts_on_bad_names(web3: Web3, contract, signer: str) -> None:  # type: ignore[no-untyped-def]
    create = contract.functions.createChannel
    reverts_with(create(""), signer, "EmptyName()")
    reverts_with(create("x" * 257), signer, "NameTooLong(uint256,uint256)")
    for bad in ("General", " general", "general ", "gen\neral"):
        reverts_with(create(bad), signer, "NameNotNormalized()")
    send(web3, create("x" * 256), signer)
    send(web3, create("general"), signer)
    reverts_with(create("general"), signer, "ChannelExists(bytes32)")


def test_join_records_each_box_once(web3: Web3, contract, signer: str) -> None:  # type: ignore[no-untyped-def]
    channel_id = bytes.fromhex(public_channel("general").id)
    reverts_with(contract.functions.join(channel_id), signer, "UnknownChannel(bytes32)")
    reverts_with(contract.functions.channel(channel_id), signer, "UnknownChannel(bytes32)")
    send(web3, contract.functions.createChannel("general"), signer)
    receipt = send(web3, contract.functions.join(channel_id), signer)
    (event,) = contract.events.ChannelJoined().process_receipt(receipt)
    assert event["args"]["member"] == signer
    again = send(web3, contract.functions.join(channel_id), signer)
    assert contract.events.ChannelJoined().process_receipt(again) == ()
    assert contract.functions.hasJoined(channel_id, signer).call() is True
    assert contract.functions.channel(channel_id).call()[4] == 1


def test_anchor_numbers_batches_and_emits_root_and_manifest(
    web3: Web3, contract, signer: str
) -> None:  # type: ignore[no-untyped-def]
    root = Web3.keccak(text="root")
    reverts_with(contract.functions.anchor(b"\0" * 32, "bafy"), signer, "EmptyRoot()")
    reverts_with(contract.functions.anchor(root, ""), signer, "EmptyManifest()")
    for expected in (0, 1):
        receipt = send(web3, contract.functions.anchor(root, f"bafk-{expected}"), signer)
        (event,) = contract.events.Anchored().process_receipt(receipt)
        assert event["args"]["batch"] == expected and event["args"]["box"] == signer
        assert event["args"]["root"] == root and event["args"]["manifest"] == f"bafk-{expected}"
    assert contract.functions.anchorCount().call() == 2


async def test_the_adapter_names_the_contract_error_of_a_refused_call(
    registry: str, anvil: AnvilNode
) -> None:
    client = await funded_client(anvil, registry)
    fees = await client.fees()
    with pytest.raises(ChainRejected) as refused:
        await client.sign_call(
            "createChannel", ["Not Normal"], await client.next_nonce(), 10**10, fees.priority_fee
        )
    assert refused.value.detail == "NameNotNormalized"
    await client.close()
