"""Public channels known from the on-chain registry, and registering new ones there.

The registry listing is cached and refreshed by the chain worker, so pages never wait on
the chain; with no chain configured or reachable the directory shows this box's own.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from chatbox.domain import channels as domain
from chatbox.domain.channels import Channel
from chatbox.errors import ChatboxError, InvalidInput
from chatbox.ports import ChainReader, TxQueue

log = logging.getLogger(__name__)


class RegistryDirectory:
    def __init__(self, chain: ChainReader | None, txs: TxQueue) -> None:
        self._chain = chain
        self._txs = txs
        self._listed: dict[str, Channel] = {}
        self._creators: dict[str, str] = {}  # channel id -> the address that registered it
        self._refresh_listeners: list[Callable[[], Awaitable[None]]] = []
        self._refreshed = False
        self._error: str | None = None

    @property
    def enabled(self) -> bool:
        return self._chain is not None

    def standing(self) -> tuple[str, int, str | None]:
        """How the registry listing stands: 'off', 'unreachable', 'connecting' or
        'connected', how many channels it lists, and the last error."""
        if self._chain is None:
            return ("off", 0, None)
        if self._error is not None:
            return ("unreachable", len(self._listed), self._error)
        return ("connected" if self._refreshed else "connecting", len(self._listed), None)

    def state(self) -> str:
        """How the registry listing stands, in English words for the API."""
        kind, listed, error = self.standing()
        return {
            "off": "off (this box uses no chain registry)",
            "unreachable": f"not reachable ({error}); showing what it listed before",
            "connecting": "connecting",
            "connected": f"connected, {listed} channels listed",
        }[kind]

    def listed(self) -> list[Channel]:
        return list(self._listed.values())

    def find(self, channel_id: str) -> Channel | None:
        return self._listed.get(channel_id)

    def creator(self, channel_id: str) -> str | None:
        """The chain address that registered a public channel, as last read; None when the
        registry does not list it (yet), or this box reads no registry."""
        return self._creators.get(channel_id)

    def signer_of(self, statement: str, proof: str) -> str | None:
        """Who signed ``statement`` (Ethereum's rule); None without a chain to ask."""
        return None if self._chain is None else self._chain.signer_of(statement, proof)

    def on_refresh(self, listener: Callable[[], Awaitable[None]]) -> None:
        """Call ``listener`` after each refresh that learned of a channel's creator."""
        self._refresh_listeners.append(listener)

    async def refresh(self) -> None:
        """Re-read the registry; names that are not normalized or mismatch their id are skipped."""
        if self._chain is None:
            return
        listed: dict[str, Channel] = {}
        creators: dict[str, str] = {}
        try:
            registered_channels = await self._chain.public_channels()
        except ChatboxError as exc:
            self._error = exc.message
            raise
        for registered in registered_channels:
            try:
                channel = domain.public_channel(registered.name)
            except InvalidInput:
                continue
            if channel.id == registered.id and channel.name == registered.name:
                listed[channel.id] = channel
                creators[channel.id] = registered.creator
        learned = creators.keys() - self._creators.keys()
        self._listed = listed
        self._creators = creators
        self._refreshed = True
        self._error = None
        if learned:
            for listener in self._refresh_listeners:
                await listener()

    async def register(self, channel: Channel) -> bool:
        """Queue the registry call that lists a new public channel on chain; False when
        there is nothing to register (no chain, a private channel, a name taken)."""
        if self._chain is None or channel.is_private or channel.id in self._listed:
            return False
        await self._txs.queue_tx("create_channel", [channel.name])
        return True
