"""The authors of other boxes, as their boxes name them, learned from the announcements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from chatbox.domain import direct, sync
from chatbox.domain.envelope import Envelope
from chatbox.ports import PeerBook, RemotePerson


class RemotePeople:
    def __init__(
        self, peers: PeerBook, local_names: Callable[[], Awaitable[dict[str, str]]]
    ) -> None:
        self._peers = peers
        self._local_names = local_names
        self._remote: dict[str, RemotePerson] | None = None  # loaded from SQLite once
        self._names: dict[str, str] | None = None

    async def people(self) -> list[RemotePerson]:
        """Authors on other boxes whose entries reached this one."""
        remote = await self._loaded()
        return sorted(remote.values(), key=lambda person: (person.name, person.box_name))

    async def names(self) -> dict[str, str]:
        """Display names of authors on other boxes: their name and their box's.

        Asked for every message shown, so kept built between arrivals of new names.
        """
        if self._names is None:
            remote = await self._loaded()
            self._names = {p.public_key: f"{p.name} ({p.box_name})" for p in remote.values()}
        return self._names

    async def handles(self) -> dict[str, tuple[str, str]]:
        """Of authors on other boxes their box introduced: key -> (login name, box name),
        what ``@name@box`` mentions them by."""
        remote = await self._loaded()
        return {p.public_key: (p.handle, p.box_name) for p in remote.values() if p.handle}

    async def local_names(self) -> dict[str, str]:
        """The names of this box's accounts, which go along with what it sends."""
        return await self._local_names()

    async def met(self, announcement: sync.Announcement, added: list[Envelope]) -> None:
        """Learn the names of the authors a box's announcement carried new entries of."""
        if not announcement.people or not added:
            return
        newest: dict[str, int] = {}
        for entry in added:
            newest[entry.author] = max(newest.get(entry.author, 0), entry.ts // 1000)
        local = await self._local_names()
        met = [
            RemotePerson(key, name, announcement.name, newest[key])
            for key, name in announcement.people
            if key in newest and key not in local
        ]
        if met:
            await self._peers.met(met)
            loaded = await self._loaded()
            for person in met:  # the handle their box gave on the people topic stays
                known = loaded.get(person.public_key)
                handle = person.handle or (known.handle if known else None)
                loaded[person.public_key] = RemotePerson(
                    person.public_key, person.name, person.box_name, person.last_seen, handle
                )
            self._names = None

    async def introduced(self, announcement: direct.PeopleAnnouncement) -> None:
        """Learn the people a box lists on the people topic, whether or not they wrote."""
        local = await self._local_names()
        remote = await self._loaded()
        met = [
            RemotePerson(
                person.card.key,
                person.name,
                announcement.name,
                remote[person.card.key].last_seen if person.card.key in remote else 0,
                person.handle,
            )
            for person in announcement.people
            if person.card.key not in local
        ]
        changed = [
            person
            for person in met
            if (known := remote.get(person.public_key)) is None
            or (known.name, known.box_name, known.handle)
            != (person.name, person.box_name, person.handle)
        ]
        if changed:
            await self._peers.met(changed)
            remote.update({person.public_key: person for person in changed})
            self._names = None

    async def _loaded(self) -> dict[str, RemotePerson]:
        if self._remote is None:
            self._remote = {p.public_key: p for p in await self._peers.remote_people()}
        return self._remote
