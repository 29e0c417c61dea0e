"""What the serial console may ask of the running node, over its local control socket.

Requests are plain values (``{"command": "status"}``) and so are the answers; the socket
is reachable only by root and the node's own user, so holding it is holding the box.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from chatbox.errors import Conflict, InvalidInput
from chatbox.services.accounts import AccountService
from chatbox.services.admin import request_anchor
from chatbox.services.anchoring import Anchorer
from chatbox.services.channels import ChannelService
from chatbox.services.messages import MessageService
from chatbox.services.peers import PeerService
from chatbox.services.status import StatusService


class NodeControl:
    def __init__(
        self,
        status: StatusService,
        peers: PeerService,
        channels: ChannelService,
        messages: MessageService,
        accounts: AccountService,
        anchorer: Anchorer | None,
    ) -> None:
        self._status = status
        self._peers = peers
        self._channels = channels
        self._messages = messages
        self._accounts = accounts
        self._anchorer = anchorer
        self._commands = {
            "status": self._status.status,
            "peers": self._boxes,
            "channels": self._channel_list,
            "anchor-now": self._anchor_now,
            "admin-code": self._admin_code,
        }

    async def handle(self, request: Any) -> dict[str, Any]:
        command = request.get("command") if isinstance(request, dict) else None
        handler = self._commands.get(command) if isinstance(command, str) else None
        if handler is None:
            raise InvalidInput("unknown control command", detail=str(command)[:40])
        return {"result": await handler()}

    async def _boxes(self) -> list[dict[str, Any]]:
        return [asdict(box) for box in await self._peers.boxes()]

    async def _channel_list(self) -> list[dict[str, Any]]:
        return [
            {
                "id": channel.id,
                "name": channel.name,
                "visibility": channel.visibility,
                "messages": await self._messages.message_count(channel.id),
            }
            for channel in await self._channels.all()
        ]

    async def _anchor_now(self) -> str:
        request_anchor(self._anchorer)
        return "anchoring starts now"

    async def _admin_code(self) -> str:
        if not await self._accounts.has_accounts():
            raise Conflict("this box has no admin yet: open it in a browser to set it up")
        return await self._accounts.new_admin_reset_code()
