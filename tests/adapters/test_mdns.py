"""The mDNS record a box advertises, and how a received one is read (no network here;
tests/sync/test_mdns_netns.py runs two responders across a real link)."""

from __future__ import annotations

from chatbox.adapters.mdns import MAX_TXT_VALUE, parse_txt, txt_record

KEY = "ab" * 32
PEER = "12D3KooWBoxPeer"


def test_a_box_record_round_trips_and_gets_dialable_lan_addresses() -> None:
    txt = txt_record(
        KEY,
        "FP",
        PEER,
        [f"/ip4/127.0.0.1/tcp/4001/p2p/{PEER}", f"/ip4/192.168.1.20/tcp/4001/p2p/{PEER}"],
        80,
        "0.1.0",
    )
    assert txt == {
        "key": KEY,
        "fp": "FP",
        "peer": PEER,
        "addrs": "/ip4/127.0.0.1/tcp/4001 /ip4/192.168.1.20/tcp/4001",
        "port": "80",
        "v": "0.1.0",
    }
    box = parse_txt("chatbox-2", dict(txt), ["192.168.1.20", "10.0.0.5"])
    assert box is not None
    assert box.name == "chatbox-2" and box.box_key == KEY and box.http_port == 80
    # Loopback means nothing to another host; each LAN address gets the swarm port.
    assert box.multiaddrs == [
        f"/ip4/192.168.1.20/tcp/4001/p2p/{PEER}",
        f"/ip4/10.0.0.5/tcp/4001/p2p/{PEER}",
    ]


def test_swarm_addresses_are_cut_to_what_one_txt_string_holds() -> None:
    many = [f"/ip4/10.0.{n}.1/tcp/4001" for n in range(40)]
    kept = txt_record(KEY, "FP", PEER, many, 80, "v")["addrs"]
    assert len(kept) <= MAX_TXT_VALUE and kept.split() == many[: len(kept.split())]


def test_records_that_are_not_a_chatbox_are_ignored() -> None:
    good = txt_record(KEY, "FP", PEER, [], 80, "v")
    for broken in (
        {},
        {**good, "key": "not hex"},
        {**good, "key": "ab"},
        {**good, "port": "eighty"},
        {**good, "port": "70000"},
        {key: value for key, value in good.items() if key != "peer"},
    ):
        assert parse_txt("other", broken, ["10.0.0.9"]) is None
