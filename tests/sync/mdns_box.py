"""One box's mDNS responder, run inside a network namespace by test_mdns_netns.py.

Prints one JSON line per event: ``ready`` (with the responder's status), ``found`` for
each box discovered, and ``resolved`` for ``--resolve NAME`` once a box was found. Runs
until its standard input closes.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys

from chatbox.adapters.mdns import MdnsResponder, open_zeroconf, resolve, txt_record
from chatbox.domain.identity import fingerprint
from chatbox.ports import DiscoveredBox


def emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--resolve")
    args = parser.parse_args()
    found = asyncio.Event()

    def on_found(box: DiscoveredBox) -> None:
        emit("found", **dataclasses.asdict(box))
        found.set()

    txt = txt_record(
        args.key, fingerprint(args.key), "12D3KooWTestPeer", ["/ip4/0.0.0.0/tcp/4001"], 80, "test"
    )
    zeroconf = open_zeroconf()
    responder = MdnsResponder(zeroconf, args.name, 80, txt, on_found, lambda name: None)
    await responder.start()
    emit("ready", **responder.status())
    if args.resolve:
        await found.wait()
        emit("resolved", addresses=await resolve(zeroconf, args.resolve))
    loop = asyncio.get_running_loop()
    closed = asyncio.Event()
    loop.add_reader(sys.stdin.fileno(), lambda: os.read(sys.stdin.fileno(), 1024) or closed.set())
    await closed.wait()
    await responder.stop()
    await zeroconf.async_close()


if __name__ == "__main__":
    asyncio.run(main())
