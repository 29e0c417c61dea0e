"""The chain: the ChatRegistry contract over Ethereum JSON-RPC, through web3.py.

Every call has a timeout and every failure to reach the node becomes ChainUnavailable;
a call the contract would revert becomes ChainRejected naming the contract's error.
Transactions are signed here with the box's local account and never with a key held by
the RPC node, so any light client or public endpoint can serve the box.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import aiohttp
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_typing import ChecksumAddress, HexStr
from web3 import AsyncHTTPProvider, AsyncWeb3
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TransactionNotFound,
    Web3Exception,
)
from web3.types import Nonce, RPCEndpoint, Wei

from chatbox.domain.merkle import keccak256
from chatbox.domain.redaction import without_url_secrets
from chatbox.errors import ChainRejected, ChainUnavailable, InvalidInput
from chatbox.ports import AnchorEvent, Fees, Receipt, RegisteredChannel, SignedTx

CALL_TIMEOUT = 15.0
CHANNEL_PAGE = 100
# Margin over the node's estimate: the estimate is exact for these calls, but a channel
# name stored by another box first changes the path of createChannel.
_GAS_MARGIN = 1.25


def registry_artifact() -> dict[str, Any]:
    """ABI and bytecode of ChatRegistry, compiled from contracts/ChatRegistry.sol."""
    text = resources.files("chatbox.adapters").joinpath("ChatRegistry.json").read_text("utf-8")
    artifact: dict[str, Any] = json.loads(text)
    return artifact


_ARTIFACT = registry_artifact()


def _error_signature(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(arg['type'] for arg in item['inputs'])})"


_ERRORS_BY_SELECTOR = {
    keccak256(_error_signature(item).encode())[:4].hex(): item["name"]
    for item in _ARTIFACT["abi"]
    if item["type"] == "error"
}


class ChainClient:
    """One RPC endpoint and one registry address; ``account`` signs, when given."""

    def __init__(self, rpc_url: str, registry: str, account: LocalAccount | None = None) -> None:
        self.rpc_url = rpc_url
        self._w3 = AsyncWeb3(
            AsyncHTTPProvider(
                rpc_url,
                request_kwargs={"timeout": aiohttp.ClientTimeout(total=CALL_TIMEOUT)},
                exception_retry_configuration=None,
            )
        )
        self._registry: ChecksumAddress | None = (
            AsyncWeb3.to_checksum_address(registry) if registry else None
        )
        self.registry: str = self._registry or ""
        self._contract = self._w3.eth.contract(address=self._registry, abi=_ARTIFACT["abi"])
        self._account = account

    @property
    def address(self) -> str:
        return self._sender()

    def _sender(self) -> ChecksumAddress:
        if self._account is None:
            raise InvalidInput("this chain client has no account to sign with")
        return self._account.address

    def sign_statement(self, statement: str) -> str:
        """The box account's EIP-191 signature of ``statement``: how the registry's creator
        of a channel names its founders (docs/PROTOCOL.md section 5.2)."""
        if self._account is None:
            raise InvalidInput("this chain client has no account to sign with")
        signed = self._account.sign_message(encode_defunct(text=statement))
        return bytes(signed.signature).hex()

    def signer_of(self, statement: str, proof: str) -> str | None:
        try:
            signature = bytes.fromhex(proof)
            return str(Account.recover_message(encode_defunct(text=statement), signature=signature))
        except (ValueError, TypeError, BadSignature):
            return None

    async def close(self) -> None:
        await _guard(self._w3.provider.disconnect())

    async def chain_id(self) -> int:
        return int(await _guard(self._w3.eth.chain_id))

    async def block_number(self) -> int:
        return int(await _guard(self._w3.eth.block_number))

    async def balance(self, address: str) -> int:
        return int(await _guard(self._w3.eth.get_balance(AsyncWeb3.to_checksum_address(address))))

    async def has_registry(self) -> bool:
        """Whether a contract is deployed at the registry address."""
        if self._registry is None:
            return False
        code = await _guard(self._w3.eth.get_code(self._registry))
        return len(code) > 0

    async def next_nonce(self) -> int:
        return int(await _guard(self._w3.eth.get_transaction_count(self._sender(), "pending")))

    async def mined_nonce(self) -> int:
        return int(await _guard(self._w3.eth.get_transaction_count(self._sender(), "latest")))

    async def fees(self) -> Fees:
        block = await _guard(self._w3.eth.get_block("latest"))
        tip = int(await _guard(self._w3.eth.max_priority_fee))
        return Fees(base_fee=int(block.get("baseFeePerGas", 0)), priority_fee=tip)

    async def sign_call(
        self, function: str, args: list[Any], nonce: int, max_fee: int, priority_fee: int
    ) -> SignedTx:
        """Sign a registry call; raise ChainRejected if the contract would revert it."""
        if self._account is None:
            raise InvalidInput("this chain client has no account to sign with")
        call = self._contract.functions[function](*args)
        try:
            gas = await _guard(call.estimate_gas({"from": self._sender()}))
        except (ContractCustomError, ContractLogicError) as exc:
            raise ChainRejected(
                f"the registry refuses {function}", detail=_revert_reason(exc)
            ) from exc
        transaction = await _guard(
            call.build_transaction(
                {
                    "from": self._sender(),
                    "nonce": Nonce(nonce),
                    "gas": int(gas * _GAS_MARGIN),
                    "maxFeePerGas": Wei(max_fee),
                    "maxPriorityFeePerGas": Wei(priority_fee),
                    "chainId": await self.chain_id(),
                }
            )
        )
        signed = self._account.sign_transaction(transaction)
        return SignedTx(
            raw=bytes(signed.raw_transaction),
            tx_hash="0x" + signed.hash.hex().removeprefix("0x"),
            nonce=nonce,
        )

    async def broadcast(self, raw: bytes) -> None:
        """Send a signed transaction; sending one the node already has is not an error."""
        try:
            await _guard(self._w3.eth.send_raw_transaction(raw))
        except ChainRejected as exc:
            text = (exc.detail or "").lower()
            if "already known" in text or "already imported" in text or "nonce too low" in text:
                return
            raise

    async def receipt(self, tx_hash: str) -> Receipt | None:
        try:
            found = await _guard(self._w3.eth.get_transaction_receipt(HexStr(tx_hash)))
        except TransactionNotFound:
            return None
        return Receipt(
            block_number=int(found["blockNumber"]),
            success=int(found["status"]) == 1,
            gas_used=int(found["gasUsed"]),
        )

    async def anchors(self, box: str | None = None, from_block: int = 0) -> list[AnchorEvent]:
        """Every Anchored event of the registry (of one box, when given), oldest first."""
        filters = {"box": AsyncWeb3.to_checksum_address(box)} if box else None
        logs = await _guard(
            self._contract.events.Anchored().get_logs(
                argument_filters=filters, from_block=from_block, to_block="latest"
            )
        )
        return [
            AnchorEvent(
                box=str(item["args"]["box"]),
                batch=int(item["args"]["batch"]),
                root=bytes(item["args"]["root"]),
                manifest_cid=str(item["args"]["manifest"]),
                block_number=int(item["blockNumber"]),
                tx_hash="0x" + bytes(item["transactionHash"]).hex(),
            )
            for item in logs
        ]

    async def public_channels(self) -> list[RegisteredChannel]:
        """Every channel in the registry, in creation order."""
        total = int(await _guard(self._contract.functions.channelCount().call()))
        found: list[RegisteredChannel] = []
        for offset in range(0, total, CHANNEL_PAGE):
            page = await _guard(self._contract.functions.listChannels(offset, CHANNEL_PAGE).call())
            found.extend(
                RegisteredChannel(id=bytes(row[0]).hex(), name=str(row[1]), creator=str(row[2]))
                for row in page
            )
        return found

    async def deploy_registry(self, max_fee: int, priority_fee: int) -> str:
        """Deploy ChatRegistry from the account (development stack); return its address."""
        if self._account is None:
            raise InvalidInput("deploying the registry needs an account")
        factory = self._w3.eth.contract(abi=_ARTIFACT["abi"], bytecode=_ARTIFACT["bytecode"])
        transaction = await _guard(
            factory.constructor().build_transaction(
                {
                    "from": self.address,
                    "nonce": await self.next_nonce(),
                    "maxFeePerGas": max_fee,
                    "maxPriorityFeePerGas": priority_fee,
                    "chainId": await self.chain_id(),
                }
            )
        )
        signed = self._account.sign_transaction(transaction)
        tx_hash = await _guard(self._w3.eth.send_raw_transaction(signed.raw_transaction))
        receipt = await _guard(self._w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60))
        address: str = receipt["contractAddress"]
        return address

    async def rpc(self, method: str, params: list[Any]) -> Any:
        """A raw JSON-RPC call (the development stack funds accounts with anvil's own)."""
        response = await _guard(self._w3.provider.make_request(RPCEndpoint(method), params))
        if "error" in response:
            raise ChainRejected(f"{method} failed", detail=str(response["error"]))
        return response.get("result")


async def _guard(awaitable: Any) -> Any:
    """Await a web3 call, turning transport failures into ChainUnavailable."""
    try:
        return await awaitable
    except (ContractCustomError, ContractLogicError, TransactionNotFound):
        raise
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        detail = without_url_secrets(str(exc))[:200]
        raise ChainUnavailable("the chain node does not answer", detail=detail) from exc
    except Web3Exception as exc:
        detail = without_url_secrets(str(exc))[:300]
        raise ChainRejected("the chain node refused the request", detail=detail) from exc


def _revert_reason(exc: Exception) -> str:
    data = getattr(exc, "data", None) or (exc.args[1] if len(exc.args) > 1 else None) or ""
    text = str(data).removeprefix("0x")
    return str(_ERRORS_BY_SELECTOR.get(text[:8], str(exc)[:200]))
