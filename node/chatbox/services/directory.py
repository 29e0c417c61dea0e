"""Public channels known from the on-chain registry, and registering new ones there.

The registry listing is cached and refreshed by the chain worker, so pages never wait on
the chain; with no chain configured or reachable the directory shows this box's own.
"""

from __future__ import annotations

import logging

from chatbox.domain import channels as domain
from chatbox.domain.channels import Channel
from chatbox.errors import InvalidInput
from chatbox.ports import AnchorStore, ChainReader

log = logging.getLogger(__name__)


class RegistryDirectory:
    def __init__(self, chain: ChainReader | None, queue: AnchorStore) -> None:
        self._chain = chain
        self._queue = queue
        self._listed: dict[str, Channel] = {}

    @property
    def enabled(self) -> bool:
        return self._chain is not None

    def listed(self) -> list[Channel]:
        return list(self._listed.values())

    def find(self, channel_id: str) -> Channel | None:
        return self._listed.get(channel_id)

    async def refresh(self) -> None:
        """Re-read the registry; names that are not normalized or mismatch their id are skipped."""
        if self._chain is None:
            return
        listed: dict[str, Channel] = {}
        for registered in await self._chain.public_channels():
            try:
                channel = domain.public_channel(registered.name)
            except InvalidInput:
                continue
            if channel.id == registered.id and channel.name == registered.name:
                listed[channel.id] = channel
        self._listed = listed

    async def register(self, channel: Channel) -> None:
        """Queue the registry call that lists a new public channel on chain."""
        if self._chain is None or channel.is_private or channel.id in self._listed:
            return
        await self._queue.queue_tx("create_channel", [channel.name])
