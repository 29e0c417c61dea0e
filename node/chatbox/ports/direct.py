"""Direct conversations: people's cards, the conversations held here, and grants."""

from __future__ import annotations

from typing import Protocol


class PeopleCards(Protocol):
    """People's signed cards, here and from other boxes, as canonical JSON."""

    async def add_cards(self, cards: dict[str, str]) -> None:
        """Keep cards by their person's key, the newest replacing."""
        ...

    async def card(self, public_key: str) -> str | None: ...
    async def cards(self, public_keys: list[str]) -> dict[str, str]: ...
    async def carded(self) -> set[str]: ...


class ConversationBook(Protocol):
    """The conversations held here, and the grants arrived for this box's people or made
    here for others."""

    async def add_conversation(self, channel_id: str, members: tuple[str, ...]) -> None: ...
    async def conversations(self) -> dict[str, tuple[str, ...]]:
        """Every conversation held here: its channel id and its members' keys."""
        ...

    async def add_grants(self, direction: str, grants: list[tuple[str, str, bytes]]) -> int:
        """Keep (channel id, recipient, grant bytes) once each; how many were new."""
        ...

    async def waiting_grants(self, recipient: str) -> list[tuple[str, bytes]]:
        """Grants that came for ``recipient`` and were not opened yet: (channel id, bytes)."""
        ...

    async def drop_grant(self, channel_id: str, recipient: str) -> None:
        """An arrived grant was opened or refused: forget its bytes, and keep it no more."""
        ...

    async def grants_to_send(self, since: int) -> list[bytes]:
        """The grants made here since ``since`` (unix seconds), oldest first."""
        ...
