"""LAN discovery: answer as ``<box_name>.local`` and find other boxes over mDNS.

It waits for the IPFS node's peer id and addresses (they go in the TXT record), then
runs the responder until cancelled. Other boxes found or lost go to the peer service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chatbox.adapters.ipfs import IpfsClient
from chatbox.adapters.mdns import MdnsResponder, open_zeroconf, txt_record
from chatbox.domain.identity import fingerprint
from chatbox.errors import Unavailable
from chatbox.ports import DiscoveredBox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Advertised:
    box_name: str
    box_key: str
    http_port: int
    version: str


class LanDiscovery:
    def __init__(
        self,
        ipfs: IpfsClient,
        advertised: Advertised,
        found: Callable[[DiscoveredBox], Any],
        lost: Callable[[str], None],
        retry: float,
        enabled: bool,
    ) -> None:
        self._ipfs = ipfs
        self._advertised = advertised
        self._found = found
        self._lost = lost
        self._retry = retry
        self.enabled = enabled
        self._responder: MdnsResponder | None = None
        self._error: str | None = None

    async def run(self) -> None:
        while True:
            try:
                node = await self._ipfs.identity()
                break
            except Unavailable:
                await asyncio.sleep(self._retry)
        box = self._advertised
        key = box.box_key
        txt = txt_record(
            key, fingerprint(key), node.peer_id, node.addresses, box.http_port, box.version
        )
        try:
            zeroconf = open_zeroconf()
        except OSError as exc:
            # Most often another mDNS responder (avahi-daemon) holds UDP 5353.
            self._error = f"cannot open mDNS on UDP 5353: {exc}"
            log.error("%s; is avahi-daemon running? The box stays reachable by IP", exc)
            return
        self._responder = MdnsResponder(
            zeroconf, box.box_name, box.http_port, txt, self._found, self._lost
        )
        try:
            await self._responder.start()
            await self._responder.run()
        finally:
            await self._responder.stop()
            await zeroconf.async_close()

    def status(self) -> dict[str, Any]:
        """``off`` when not enabled, ``starting``, ``failed`` with why, or the responder's own."""
        if self._error is not None:
            return {"state": "failed", "detail": self._error}
        if self._responder is None:
            return {"state": "starting" if self.enabled else "off"}
        return self._responder.status()
