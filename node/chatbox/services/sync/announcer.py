"""One announcement, signed as this box and published on a channel's topic."""

from __future__ import annotations

import time

from chatbox.domain import sync
from chatbox.domain.channels import Channel, pubsub_topic
from chatbox.domain.identity import Identity
from chatbox.ports import PeerNetwork


class Announcer:
    def __init__(self, box: Identity, box_name: str, network: PeerNetwork) -> None:
        self._box = box
        self._name = box_name
        self._network = network
        self._peer_id = ""

    @property
    def name(self) -> str:
        return self._name

    @property
    def box_key(self) -> str:
        return self._box.public_key

    async def peer_id(self) -> str:
        """This box's libp2p peer id, which every announcement names (asked of IPFS once)."""
        if not self._peer_id:
            self._peer_id = (await self._network.identity()).peer_id
        return self._peer_id

    async def publish(
        self,
        channel: Channel,
        kind: sync.Kind,
        cids: list[str],
        to: str = "",
        entries: list[bytes] | None = None,
        people: dict[str, str] | None = None,
        contents: list[bytes] | None = None,
    ) -> None:
        announcement = sync.Announcement(
            kind=kind,
            box=self._box.public_key,
            name=self._name,
            peer=await self.peer_id(),
            channel=channel.id,
            ts=time.time_ns() // 1_000_000,
            cids=tuple(cids),
            to=to,
            entries=tuple(entries or ()),
            contents=tuple(contents or ()),
            people=tuple(sorted((people or {}).items())),
        )
        data = sync.encode(announcement, self._box, channel.key)
        await self._network.publish(pubsub_topic(channel), data)
