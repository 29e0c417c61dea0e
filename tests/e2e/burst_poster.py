"""Post messages as fast as the node acknowledges them, printing each acknowledged CID.

Run by the durability test, which kills this process with SIGKILL mid-burst:
    python burst_poster.py DATA_DIR IPFS_API
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from chatbox.config import Settings
from chatbox.daemon import Node
from chatbox.errors import Conflict

POSTERS = 8


async def main(data_dir: Path, ipfs_api: str) -> None:
    node = Node(Settings(data_dir=data_dir, ipfs_api=ipfs_api), password_cost=10)
    await node.start()
    try:
        member = await node.services.accounts.register("poster", "burst password")
    except Conflict:
        member = await node.services.accounts.unlock("poster", "burst password")
    channels = await node.services.channels.joined(member)
    channel = (
        channels[0] if channels else await node.services.channels.create(member, "burst", "public")
    )
    print(f"channel {channel.id}", flush=True)

    async def poster(number: int) -> None:
        for i in range(1_000_000):
            message = await node.services.messages.post_text(
                member, channel.id, f"poster {number} post {i}"
            )
            # Printed only after post_text returned: the acknowledgement a client would get.
            sys.stdout.write(f"ack {message.cid} {message.text}\n")
            sys.stdout.flush()

    await asyncio.gather(*(poster(number) for number in range(POSTERS)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
