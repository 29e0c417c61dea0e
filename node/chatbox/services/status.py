"""What the box reports about itself: version, uptime, IPFS, outbox, chain, mDNS and sync."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from chatbox.domain.identity import fingerprint
from chatbox.domain.redaction import shown_url
from chatbox.errors import ChatboxError, Unavailable
from chatbox.ports import Chain, ContentStore, PinQueue, StoreHealth
from chatbox.services.anchoring import Anchorer
from chatbox.services.outbox import Outbox
from chatbox.services.peers import PeerService
from chatbox.services.storage import StorageGuard
from chatbox.services.sync import ChannelSync

WEI_PER_ETHER = 10**18
# Gas of one anchoring transaction for the funding hint: scripts/bench_chain.py measures
# about 31,600; rounded up for margin.
ANCHOR_GAS = 40_000
HINT_ANCHORS = 100


# What only an admin is shown of the chain: the box's account and what it holds, and the
# registry it pays to anchor in. A member needs to know whether history is proven, not
# where the owner's money is.
ADMIN_ONLY_CHAIN = ("address", "balance", "balance_wei", "funding_hint", "registry", "rpc_url")


def for_viewer(report: dict[str, Any], is_admin: bool) -> dict[str, Any]:
    """The status report as shown to an admin (all of it) or to anyone else."""
    if is_admin:
        return report
    chain = {key: value for key, value in report["chain"].items() if key not in ADMIN_ONLY_CHAIN}
    return {**report, "chain": chain}


def web_address(host: str, port: int, path: str = "/") -> str:
    """The box's URL at ``host`` (an IP address or <name>.local), as people type it."""
    return f"http://{host}{'' if port == 80 else f':{port}'}{path}"


@dataclass(frozen=True)
class BoxInfo:
    name: str
    public_key: str
    version: str
    started_at: float


@dataclass(frozen=True)
class LanInfo:
    http_port: int
    addresses: Callable[[], list[str]]  # this machine's IPv4 addresses on the LAN


@dataclass(frozen=True)
class ChainInfo:
    rpc_url: str
    chain_id: int
    chain: Chain | None  # None when no registry address is set
    anchorer: Anchorer | None
    address: str  # the box's own account, shown so the owner can fund it


class StatusService:
    def __init__(
        self,
        box: BoxInfo,
        pins: PinQueue,
        health: StoreHealth,
        content: ContentStore,
        outbox: Outbox,
        chain: ChainInfo,
        sync: ChannelSync,
        peers: PeerService,
        mdns: Callable[[], dict[str, Any]],
        storage: StorageGuard,
        lan: LanInfo,
        notices: list[str],  # problems for the owner, e.g. a rejected settings file
    ) -> None:
        self._storage = storage
        self._lan = lan
        self._notices = notices
        self._box = box
        self._pins = pins
        self._health = health
        self._content = content
        self._outbox = outbox
        self._chain = chain
        self._sync = sync
        self._peers = peers
        self._mdns = mdns

    @property
    def box_name(self) -> str:
        """The name this box goes by on the LAN and to other boxes."""
        return self._box.name

    async def check_health(self) -> None:
        """Unavailable unless the node can still store a post (what /healthz answers).

        IPFS and the chain may be down on a healthy node: posts wait in the outbox.
        """
        await self._health.check_writable()

    async def status(self) -> dict[str, Any]:
        return {
            "version": self._box.version,
            "box": {
                "name": self._box.name,
                "fingerprint": fingerprint(self._box.public_key),
                "uptime_seconds": int(time.time() - self._box.started_at),
            },
            "ipfs": await self._ipfs(),
            "outbox": {
                "pending": await self._pins.pending_count(),
                "last_error": self._outbox.last_error,
            },
            "chain": await self._chain_status(),
            "mdns": self._mdns(),
            "sync": await self._sync_status(),
            "storage": self._storage.status(),
            "network": {"urls": self.urls()},
            "notices": self._notices,
        }

    def urls(self) -> list[str]:
        """The box's web address at each of its LAN IP addresses, for when .local fails."""
        return [web_address(address, self._lan.http_port) for address in self._lan.addresses()]

    def mdns(self) -> dict[str, Any]:
        """How the box answers on the LAN (name, renaming, addresses)."""
        return self._mdns()

    async def _sync_status(self) -> dict[str, Any]:
        boxes = await self._peers.boxes()
        return {
            **self._sync.status(),
            **asdict(await self._peers.counts()),
            "boxes": len(boxes),
            "online": sum(box.availability == "online" for box in boxes),
            "rejected_by_peer": {box.peer_id: box.rejected for box in boxes if box.rejected},
        }

    async def _ipfs(self) -> dict[str, Any]:
        try:
            node = await self._content.identity()
            repo = await self._content.repo_stats()
        except Unavailable as exc:
            return {"online": False, "error": exc.message}
        return {
            "online": True,
            "peer_id": node.peer_id,
            "agent": node.agent,
            "addresses": node.addresses,
            **asdict(repo),
        }

    async def _chain_status(self) -> dict[str, Any]:
        info = self._chain
        status: dict[str, Any] = {
            "rpc_url": shown_url(info.rpc_url),
            "chain_id": info.chain_id,
            "address": info.address,
        }
        if info.chain is None or info.anchorer is None:
            return {**status, "state": "off", "detail": "no registry_address is set"}
        status["registry"] = info.chain.registry
        status.update(await info.anchorer.status())
        try:
            balance = await info.chain.balance(info.address)
            fees = await info.chain.fees()
        except ChatboxError as exc:
            return {**status, "state": "unreachable", "detail": exc.message}
        needed = ANCHOR_GAS * HINT_ANCHORS * (2 * fees.base_fee + fees.priority_fee)
        status["balance_wei"] = balance
        status["balance"] = f"{balance / WEI_PER_ETHER:.6f}"
        if balance < needed:
            status["funding_hint"] = (
                f"send at least {needed / WEI_PER_ETHER:.6f} to {info.address} "
                f"to pay for about {HINT_ANCHORS} anchors at today's fees"
            )
        status["state"] = "error" if info.anchorer.last_error else "connected"
        return status
