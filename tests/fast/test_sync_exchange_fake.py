"""Sync's heads/want/pack exchange and repair, run for real between boxes on fakes.

The fast tier: the services are the box's own (``build_sync``), the IPFS node and SQLite
are in-memory fakes, so each exchange takes milliseconds. ``tests/sync`` runs the same
protocol between real nodes on Kubo.
"""

from __future__ import annotations

from chatbox.domain import sync
from chatbox.domain.channels import Channel, new_private_channel, public_channel
from tests.conftest import eventually
from tests.fakes.boxes import FakeBox, fake_box, running
from tests.fakes.network import FakePubsub

CHANNEL = public_channel("general")


def announcements(hub: FakePubsub, channel: Channel, kind: str) -> list[sync.Announcement]:
    """What was published on the channel's topic, of one kind, decoded."""
    found = []
    for peer, _, data in hub.sent:
        announcement = sync.decode(data, channel.id, channel.key, peer)
        if announcement.kind == kind:
            found.append(announcement)
    return found


def copy_entries(source: FakeBox, target: FakeBox, count: int) -> None:
    for cid in list(source.log.entries)[:count]:
        target.log.entries[cid] = source.log.entries[cid]


async def converged(*boxes: FakeBox, count: int) -> None:
    async def same() -> bool:
        sets = [set(box.log.entries) for box in boxes]
        return len(sets[0]) == count and all(s == sets[0] for s in sets)

    await eventually(same, timeout=5, what=f"{count} entries on every box", poll=0.005)


async def test_a_box_behind_gets_exactly_what_it_lacks_in_packs() -> None:
    hub = FakePubsub()
    a, b = fake_box(hub, "a", CHANNEL), fake_box(hub, "b", CHANNEL)
    for n in range(300):
        a.log.post(a.author, CHANNEL, f"message {n}")
    copy_entries(a, b, 100)

    async with running(a, b):
        await converged(a, b, count=300)

    wants = [w for w in announcements(hub, CHANNEL, "want") if w.box == b.identity.public_key]
    assert wants and wants[0].to == a.identity.public_key
    sent = [p for p in announcements(hub, CHANNEL, "pack") if p.to == b.identity.public_key]
    # B's sample names its head, whose ancestors are all it holds: the pack is the 200.
    assert sum(len(p.entries) for p in sent) == 200
    assert a.network.fetched == b.network.fetched == []  # nothing needed repair
    assert b.sync.transport.status()["received"] == 200
    assert b.peers.heard_from[a.network.peer_id] == (a.identity.public_key, "a")


async def test_packs_lost_on_the_way_are_fetched_by_cid() -> None:
    hub = FakePubsub()
    hub.lose = lambda data: b'"kind":"pack"' in data
    a, b = fake_box(hub, "a", CHANNEL), fake_box(hub, "b", CHANNEL)
    for n in range(40):
        a.log.post(a.author, CHANNEL, f"message {n}")

    async with running(a, b):
        await converged(a, b, count=40)

    assert len(announcements(hub, CHANNEL, "pack")) == hub.lost > 0  # sent, none arrived
    assert set(b.network.fetched) >= set(a.log.entries)


async def test_two_branches_written_apart_merge_on_both_boxes() -> None:
    hub = FakePubsub()
    a, b = fake_box(hub, "a", CHANNEL), fake_box(hub, "b", CHANNEL)
    for n in range(10):
        a.log.post(a.author, CHANNEL, f"shared {n}")
    copy_entries(a, b, 10)
    for n in range(25):
        a.log.post(a.author, CHANNEL, f"a alone {n}")
        b.log.post(b.author, CHANNEL, f"b alone {n}")

    async with running(a, b):
        await converged(a, b, count=60)

    assert await a.log.heads(CHANNEL.id) == await b.log.heads(CHANNEL.id)
    assert len(await a.log.heads(CHANNEL.id)) == 2  # the fork, until someone posts on it


async def test_a_post_is_announced_with_its_entry_and_its_author_named() -> None:
    hub = FakePubsub()
    a, b = fake_box(hub, "a", CHANNEL), fake_box(hub, "b", CHANNEL)
    async with running(a, b):
        await eventually(lambda: _greeted(hub, 2), timeout=5, what="both boxes greeted", poll=0.005)
        entry = a.log.post(a.author, CHANNEL, "hello from a")
        a.sync.exchange.announce_post(CHANNEL, entry, None)
        await converged(a, b, count=1)
        names = await b.sync.people.names()

    inline = [h for h in announcements(hub, CHANNEL, "heads") if entry.raw in h.entries]
    assert [h.cids for h in inline] == [(entry.cid,)]
    assert names == {a.author.public_key: "a's author (a)"}
    assert [p.name for p in await b.sync.people.people()] == ["a's author"]


async def _greeted(hub: FakePubsub, boxes: int) -> bool:
    return len({peer for peer, _, _ in hub.sent}) >= boxes


async def test_a_forged_entry_is_dropped_and_its_sender_counted() -> None:
    hub = FakePubsub()
    a, b = fake_box(hub, "a", CHANNEL), fake_box(hub, "b", CHANNEL)
    entry = a.log.post(a.author, CHANNEL, "pay 10")
    forged = entry.raw.replace(b"pay 10", b"pay 99")
    async with running(b):
        await eventually(lambda: _greeted(hub, 1), timeout=5, what="b greeted", poll=0.005)
        await a.sync.exchange._announcer.publish(CHANNEL, "heads", [entry.cid], "", [forged])
        await eventually(
            lambda: _rejected(b, a.network.peer_id), timeout=5, what="rejection", poll=0.005
        )

    assert b.log.entries == {}
    assert b.sync.transport.status()["rejected"] == 1


async def _rejected(box: FakeBox, peer: str) -> bool:
    return box.peers.rejections.get(peer) == 1


async def test_a_private_channel_syncs_sealed_and_a_box_without_its_key_reads_nothing() -> None:
    hub = FakePubsub()
    secret = new_private_channel("staff", "a1" * 32)
    a, b = fake_box(hub, "a", secret), fake_box(hub, "b", secret)
    outsider = fake_box(hub, "c", public_channel("staff"))
    for n in range(20):
        a.log.post(a.author, secret, f"private {n}")

    async with running(a, b, outsider):
        await converged(a, b, count=20)

    assert outsider.log.entries == {}
    assert all(b"private" not in data for _, _, data in hub.sent)


async def test_sync_waits_while_ipfs_is_down_and_catches_up_when_it_is_back() -> None:
    hub = FakePubsub()
    a, b = fake_box(hub, "a", CHANNEL), fake_box(hub, "b", CHANNEL)
    for n in range(30):
        a.log.post(a.author, CHANNEL, f"message {n}")
    b.network.up = False
    async with running(a, b):
        await eventually(lambda: _waiting(b), timeout=5, what="b reports IPFS down", poll=0.005)
        assert b.log.entries == {}
        b.network.up = True
        await converged(a, b, count=30)


async def _waiting(box: FakeBox) -> bool:
    return box.sync.transport.status()["last_error"] == "the fake IPFS node is down"
