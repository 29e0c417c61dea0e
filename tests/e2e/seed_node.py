"""Give a fresh node one channel with 25 messages, pinned on IPFS (DATA_DIR IPFS_API)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from chatbox.config import Settings
from chatbox.daemon import Node


async def main(data_dir: Path, ipfs_api: str) -> None:
    node = Node(Settings(data_dir=data_dir, ipfs_api=ipfs_api), password_cost=10)
    await node.start()
    try:
        member = await node.services.accounts.register("seeder", "seed password")
        channel = await node.services.channels.create(member, "seeded", "public")
        for i in range(25):
            await node.services.messages.post_text(member, channel.id, f"seed {i}")
        await node.services.outbox.drained()
    finally:
        await node.stop()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
