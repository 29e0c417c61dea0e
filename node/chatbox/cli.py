"""The ``chatbox`` command: run the node, run it on the development stack, reindex.

A start-up error becomes one readable line on stderr and a distinct exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from chatbox import __version__, config, devstack
from chatbox.daemon import Node, serve
from chatbox.errors import ChatboxError, ConfigError, Unavailable

EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 3
EXIT_ERROR = 1
DEV_DATA_DIR = Path(".chatbox-dev")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = config.load(args.config)
        logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
        return int(args.command(args, settings))
    except ConfigError as exc:
        print(f"chatbox: {exc.message}", file=sys.stderr)
        return EXIT_CONFIG
    except Unavailable as exc:
        print(f"chatbox: {exc.message}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except ChatboxError as exc:
        print(
            f"chatbox: {exc.message}" + (f" ({exc.detail})" if exc.detail else ""), file=sys.stderr
        )
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatbox", description="Serverless peer-to-peer chat on IPFS."
    )
    parser.add_argument("--version", action="version", version=f"chatbox {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        default=config.DEFAULT_CONFIG_PATH,
        help="settings file (default: %(default)s; CHATBOX_* variables override it)",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="run the node with the owner's settings")
    run.set_defaults(command=_run)
    dev = commands.add_parser(
        "dev", help="start the development stack (IPFS, anvil) and the node on loopback"
    )
    dev.add_argument(
        "--data-dir",
        type=Path,
        default=DEV_DATA_DIR,
        help="where the stack keeps its data across restarts (default: %(default)s)",
    )
    dev.add_argument("--port", type=int, default=8080, help="HTTP port (default: 8080)")
    dev.set_defaults(command=_dev)
    reindex = commands.add_parser(
        "reindex", help="rebuild the message index from the channel heads on IPFS"
    )
    reindex.set_defaults(command=_reindex)
    return parser


def _run(args: argparse.Namespace, settings: config.Settings) -> int:
    asyncio.run(serve(settings, on_ready=_announce))
    return 0


def _dev(args: argparse.Namespace, settings: config.Settings) -> int:
    data_dir = args.data_dir.resolve()
    ipfs = devstack.IpfsDaemon(data_dir / "ipfs")
    anvil = devstack.AnvilNode(data_dir / "anvil")
    try:
        print(f"chatbox: starting IPFS ({ipfs.repo}) and anvil ...", flush=True)
        ipfs.start()
        anvil.start()
        dev_settings = dataclasses.replace(
            settings,
            data_dir=data_dir / "node",
            http_host="127.0.0.1",
            http_port=args.port,
            ipfs_api=ipfs.api_url,
            chain_rpc_url=anvil.rpc_url,
            chain_id=anvil.chain_id,
        )
        asyncio.run(serve(dev_settings, on_ready=_announce))
    finally:
        anvil.stop()
        ipfs.stop()
    return 0


def _reindex(args: argparse.Namespace, settings: config.Settings) -> int:
    async def rebuild() -> None:
        node = Node(settings)
        await node.start()
        try:
            for report in await node.services.reindexer.reindex_all():
                print(f"{report.name}: {report.entries} entries ({report.channel_id})")
        finally:
            await node.stop()

    asyncio.run(rebuild())
    return 0


def _announce(url: str) -> None:
    print(f"chatbox is running at {url} (Ctrl-C stops it)", flush=True)
