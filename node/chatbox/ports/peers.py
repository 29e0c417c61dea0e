"""Other boxes: the IPFS node as a libp2p peer, the buddy list, and the files of peers to pin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from chatbox.ports.content import NodeIdentity


class PeerNetwork(Protocol):
    """The IPFS node as a libp2p peer: swarm connections, pubsub, pinning others' content."""

    async def identity(self) -> NodeIdentity: ...
    async def swarm_connect(self, multiaddr: str) -> None: ...
    async def swarm_disconnect(self, multiaddr: str) -> None: ...
    async def swarm_peers(self) -> set[str]: ...
    async def publish(self, topic: str, data: bytes) -> None: ...
    def subscribe(self, topic: str) -> AsyncIterator[tuple[str, bytes]]: ...
    async def get_block(self, cid: str, timeout: float | None = None) -> bytes: ...
    async def pin(self, cid: str, timeout: float | None = None) -> None: ...


@dataclass(frozen=True)
class PeerRecord:
    """Another box in the buddy list."""

    peer_id: str  # libp2p peer id of its IPFS node
    box_key: str | None  # known once an announcement signed by it arrived
    name: str
    addresses: list[str]
    source: str  # 'mdns' | 'manual' | 'pubsub'
    last_seen: int  # unix seconds of its last valid announcement; 0 if never
    rejected: int  # invalid announcements or entries it sent


@dataclass(frozen=True)
class DiscoveredBox:
    """A box announced over mDNS: what its TXT record and address records said."""

    name: str  # its host label, e.g. chatbox-2
    box_key: str
    peer_id: str
    multiaddrs: list[str]  # dialable, each ending in /p2p/<peer_id>
    http_port: int
    version: str
    addresses: list[str]  # its LAN addresses


@dataclass(frozen=True)
class RemotePerson:
    """An author on another box, as that box named them."""

    public_key: str
    name: str
    box_name: str
    last_seen: int  # unix seconds of the newest of their entries that arrived
    handle: str | None = None  # their login name there, once their box introduced them


class PeerBook(Protocol):
    """The buddy list: boxes seen or added, and the people of other boxes."""

    async def remember(
        self, peer_id: str, source: str, addresses: list[str], name: str
    ) -> None: ...
    async def heard(self, peer_id: str, box_key: str, name: str) -> None: ...
    async def rejected(self, peer_id: str) -> None: ...
    async def forget(self, peer_id: str) -> bool: ...
    async def peers(self) -> list[PeerRecord]: ...
    async def met(self, people: list[RemotePerson]) -> None: ...
    async def remote_people(self) -> list[RemotePerson]: ...


class FilePins(Protocol):
    """Files that entries from other boxes refer to, queued to be pinned here."""

    async def want_files(self, files: list[tuple[str, str]]) -> None: ...
    async def files_to_pin(self, limit: int, retry_before: int) -> list[str]: ...
    async def file_pinned(self, cid: str, error: str | None) -> None: ...
    async def file_pin_counts(self) -> dict[str, int]: ...
