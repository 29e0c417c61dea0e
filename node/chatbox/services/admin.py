"""What only an admin may do to the box's links and anchoring, checked in this layer
(the registration policy and sign-up codes are checked by ``AccountService``, beside them).

The serial console reaches ``request_anchor`` without an account: whoever holds the
cable holds the box.
"""

from __future__ import annotations

from chatbox.errors import Conflict
from chatbox.services.accounts import Member, require_admin
from chatbox.services.anchoring import Anchorer
from chatbox.services.peers import AddedBox, PeerService


def request_anchor(anchorer: Anchorer | None) -> None:
    """Anchor the channels' new history now instead of at the next interval."""
    if anchorer is None:
        raise Conflict("this box anchors on no chain", detail="registry_address is not set")
    anchorer.request()


class AdminActions:
    def __init__(self, peers: PeerService, anchorer: Anchorer | None) -> None:
        self._peers = peers
        self._anchorer = anchorer

    async def add_box(self, member: Member, multiaddr: str) -> AddedBox:
        """Add a box beyond the LAN by its IPFS multiaddr; kept and redialled."""
        require_admin(member)
        return await self._peers.add(multiaddr)

    async def remove_box(self, member: Member, peer_id: str) -> None:
        require_admin(member)
        await self._peers.remove(peer_id)

    def anchor_now(self, member: Member) -> None:
        require_admin(member)
        request_anchor(self._anchorer)
