"""A box's first minutes: the owner's account, and a #general that everyone starts in.

Without it, a new member lands on an empty chat and has to know to look in the directory;
with it, the first thing anyone sees is the channel where everybody already is.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace

from chatbox.domain.channels import public_channel
from chatbox.domain.person_names import chosen_display_name
from chatbox.errors import Conflict, NotFound
from chatbox.ports import Registration
from chatbox.services.accounts import AccountService, Member
from chatbox.services.channels import ChannelService

WELCOME_CHANNEL = "general"
_WELCOME_KEY = "welcome_channel"


class Onboarding:
    def __init__(
        self, accounts: AccountService, channels: ChannelService, settings: Registration
    ) -> None:
        self._accounts = accounts
        self._channels = channels
        self._settings = settings

    async def set_up(self, name: str, password: str, display_name: str | None = None) -> Member:
        """Create the owner's account and #general, which new members then join."""
        shown = chosen_display_name(display_name) if display_name is not None else None
        owner = await self._named(await self._accounts.setup_admin(name, password), shown)
        try:
            channel = await self._channels.create(owner, WELCOME_CHANNEL, "public")
        except Conflict:  # a box restored from a backup may hold one already
            channel = await self._channels.join_public(owner, public_channel(WELCOME_CHANNEL).id)
        await self._settings.set_setting(_WELCOME_KEY, channel.id)
        return owner

    async def sign_up(
        self, name: str, password: str, code: str | None, display_name: str | None = None
    ) -> Member:
        """Create an account as the registration policy allows, and join it to #general."""
        shown = chosen_display_name(display_name) if display_name is not None else None
        member = await self._named(await self._accounts.sign_up(name, password, code), shown)
        welcome = await self._settings.setting(_WELCOME_KEY)
        if welcome is not None:
            # NotFound: the channel is gone, or the box was set up before there was one.
            with contextlib.suppress(NotFound):
                await self._channels.join_public(member, welcome)
        return member

    async def _named(self, member: Member, shown: str | None) -> Member:
        """Give the new account the display name checked before it was made, so a bad one
        refuses the sign-up instead of leaving a half-made account."""
        if shown is None:
            return member
        return replace(member, display_name=await self._accounts.set_display_name(member, shown))
