"""mDNS (RFC 6762) and DNS-SD (RFC 6763) with python-zeroconf: the box's name on the LAN.

The box answers as ``<name>.local`` with its LAN addresses and advertises
``_chatbox._tcp.local.`` with a TXT record carrying its box key and fingerprint, its IPFS
peer id and swarm multiaddrs, its HTTP port and version. When another host already
answers to the name, it takes ``<name>-2`` (then ``-3`` ...). It browses for other boxes
and reports them coming and going, and re-announces when its addresses change.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import logging
import socket
from collections.abc import Callable, Mapping
from typing import Any

import ifaddr
from zeroconf import (
    AddressResolverIPv4,
    IPVersion,
    NonUniqueNameException,
    ServiceStateChange,
    Zeroconf,
)
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from chatbox.ports import DiscoveredBox

log = logging.getLogger(__name__)
SERVICE_TYPE = "_chatbox._tcp.local."
# How long to listen for another host answering to a name before taking it (RFC 6762
# section 8.1 probes for 750 ms; one more round trip of margin on a busy Wi-Fi).
PROBE_MS = 1500
RESOLVE_MS = 3000
ADDRESS_CHECK_SECONDS = 30.0
MAX_TXT_VALUE = 200  # each TXT string holds at most 255 bytes, key included (RFC 6763 6.1)


class MdnsResponder:
    """Advertise this box and browse for others on one ``AsyncZeroconf``."""

    def __init__(
        self,
        zeroconf: AsyncZeroconf,
        name: str,
        http_port: int,
        txt: Mapping[str, str],
        found: Callable[[DiscoveredBox], Any],
        lost: Callable[[str], None],
        addresses: Callable[[], list[str]] | None = None,
    ) -> None:
        self._zc = zeroconf
        self.requested = name
        self.host = name
        self._port = http_port
        self._txt = dict(txt)
        self._found = found
        self._lost = lost
        self._addresses = addresses or lan_addresses
        self._info: AsyncServiceInfo | None = None
        self._announced: list[str] = []  # the addresses the records carry now
        self._browser: AsyncServiceBrowser | None = None
        self._resolving: set[asyncio.Task[None]] = set()
        self.boxes: dict[str, DiscoveredBox] = {}

    async def start(self) -> None:
        """Take a free name, answer to it, and start browsing."""
        for number in itertools.count(1):
            candidate = self.requested if number == 1 else f"{self.requested}-{number}"
            if await self._taken(candidate):
                continue
            self._announced = self._addresses()
            self._info = self._service_info(candidate, self._announced)
            try:
                await (await self._zc.async_register_service(self._info))
            except NonUniqueNameException:
                continue
            self.host = candidate
            break
        if self.host != self.requested:
            log.warning(
                "%s.local is taken on this network; this box answers as %s.local",
                self.requested,
                self.host,
            )
        self._browser = AsyncServiceBrowser(
            self._zc.zeroconf, SERVICE_TYPE, handlers=[self._on_change]
        )

    async def run(self) -> None:
        """Re-announce whenever the box's addresses change (DHCP renewals, a new Wi-Fi)."""
        while True:
            await asyncio.sleep(ADDRESS_CHECK_SECONDS)
            await self.refresh()

    async def refresh(self, txt: Mapping[str, str] | None = None) -> None:
        """Publish the current addresses (and ``txt``, if given) again if they changed."""
        if self._info is None:
            return
        if txt is not None:
            self._txt = dict(txt)
        addresses = self._addresses()
        info = self._service_info(self.host, addresses)
        if info.addresses != self._info.addresses or info.properties != self._info.properties:
            self._info, self._announced = info, addresses
            await (await self._zc.async_update_service(info))
            log.info("re-announced %s.local at %s", self.host, ", ".join(addresses))

    async def stop(self) -> None:
        for task in self._resolving:
            task.cancel()
        if self._browser is not None:
            await self._browser.async_cancel()
        if self._info is not None:
            await (await self._zc.async_unregister_service(self._info))

    def status(self) -> dict[str, Any]:
        return {
            "state": "advertising" if self._info is not None else "starting",
            "name": f"{self.host}.local",
            "requested": f"{self.requested}.local",
            "renamed": self.host != self.requested,
            "addresses": self._announced,
            "boxes_on_lan": sorted(self.boxes),
        }

    async def _taken(self, candidate: str) -> bool:
        own = set(self._addresses())
        resolver = AddressResolverIPv4(f"{candidate}.local.")
        answered = await resolver.async_request(self._zc.zeroconf, PROBE_MS)
        if answered and set(resolver.parsed_addresses(IPVersion.V4Only)) - own:
            return True
        other = AsyncServiceInfo(SERVICE_TYPE, f"{candidate}.{SERVICE_TYPE}")
        return bool(await other.async_request(self._zc.zeroconf, PROBE_MS))

    def _service_info(self, host: str, addresses: list[str]) -> AsyncServiceInfo:
        return AsyncServiceInfo(
            SERVICE_TYPE,
            f"{host}.{SERVICE_TYPE}",
            addresses=[socket.inet_aton(address) for address in addresses],
            port=self._port,
            properties=self._txt,
            server=f"{host}.local.",
        )

    def _on_change(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        label = name.removesuffix("." + SERVICE_TYPE)
        if label == self.host:
            return
        if state_change is ServiceStateChange.Removed:
            self.boxes.pop(label, None)
            self._lost(label)
            return
        task = asyncio.get_running_loop().create_task(self._resolve(label, name))
        self._resolving.add(task)
        task.add_done_callback(self._resolving.discard)

    async def _resolve(self, label: str, name: str) -> None:
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        if not await info.async_request(self._zc.zeroconf, RESOLVE_MS):
            return
        box = parse_txt(label, info.decoded_properties, info.parsed_addresses(IPVersion.V4Only))
        if box is None:
            log.info("ignoring %s: its mDNS record is not a chatbox's", name)
            return
        self.boxes[label] = box
        try:
            result = self._found(box)
            if asyncio.iscoroutine(result):
                await result
        except Exception:  # a failing listener must not stop discovery of the others
            log.exception("could not take in the box %s found on the LAN", label)


def open_zeroconf() -> AsyncZeroconf:
    """An mDNS stack on every IPv4 interface (the one responder on the box: avahi is off)."""
    return AsyncZeroconf(ip_version=IPVersion.V4Only)


def txt_record(
    box_key: str,
    fingerprint: str,
    peer_id: str,
    multiaddrs: list[str],
    http_port: int,
    version: str,
) -> dict[str, str]:
    """The TXT record of a box; swarm addresses are kept to what one string holds."""
    kept: list[str] = []
    for address in multiaddrs:
        bare = address.split("/p2p/")[0]
        if bare not in kept and len(" ".join([*kept, bare])) <= MAX_TXT_VALUE:
            kept.append(bare)
    return {
        "key": box_key,
        "fp": fingerprint,
        "peer": peer_id,
        "addrs": " ".join(kept),
        "port": str(http_port),
        "v": version,
    }


def parse_txt(
    label: str, properties: Mapping[str, str | None], addresses: list[str]
) -> DiscoveredBox | None:
    """A box from its TXT record and address records; None if it is not a chatbox's."""
    try:
        box_key, peer_id = str(properties["key"]), str(properties["peer"])
        port = int(str(properties["port"]))
        bytes.fromhex(box_key)
    except (KeyError, ValueError):
        return None
    if len(box_key) != 64 or not peer_id or not 0 < port < 65536:
        return None
    swarm = [address for address in str(properties.get("addrs") or "").split() if address]
    # Addresses the box listed for itself on loopback mean nothing here; dial its LAN ones.
    dialable = [
        f"{address}/p2p/{peer_id}"
        for address in [*swarm, *_on_lan_addresses(swarm, addresses)]
        if not address.startswith("/ip4/127.")
    ]
    return DiscoveredBox(
        name=label,
        box_key=box_key,
        peer_id=peer_id,
        multiaddrs=list(dict.fromkeys(dialable)),
        http_port=port,
        version=str(properties.get("v") or ""),
        addresses=addresses,
    )


async def resolve(zeroconf: AsyncZeroconf, host: str, timeout_ms: int = RESOLVE_MS) -> list[str]:
    """The IPv4 addresses ``<host>.local`` answers with on the LAN, or [] if nobody does."""
    resolver = AddressResolverIPv4(f"{host}.local.")
    if not await resolver.async_request(zeroconf.zeroconf, timeout_ms):
        return []
    return resolver.parsed_addresses(IPVersion.V4Only)


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses others can reach: not loopback, not link-local."""
    found = set()
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if not isinstance(ip.ip, str):
                continue  # IPv6: (address, flowinfo, scope)
            parsed = ipaddress.IPv4Address(ip.ip)
            if not (parsed.is_loopback or parsed.is_link_local):
                found.add(ip.ip)
    return sorted(found) or ["127.0.0.1"]


def _on_lan_addresses(swarm: list[str], addresses: list[str]) -> list[str]:
    """The box's swarm TCP port at each of its LAN addresses."""
    ports = [part.split("/tcp/")[1].split("/")[0] for part in swarm if "/tcp/" in part]
    return [f"/ip4/{address}/tcp/{ports[0]}" for address in addresses] if ports else []
