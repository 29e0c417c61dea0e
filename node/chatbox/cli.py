"""The ``chatbox`` command: run the node (or the development stack and the node), the
serial console, first boot, reindex, verify, backup and restore.

One-shot commands build the node without running it (``Node.open``), so they can run
beside a live box. A start-up error becomes one readable line on stderr and a distinct
exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from chatbox import __version__, config, firstboot
from chatbox.adapters import chain_account, keyfile
from chatbox.adapters.atomic import write_file
from chatbox.adapters.ipfs import IpfsClient
from chatbox.adapters.wifi import CONNECTIONS_DIR
from chatbox.console_daemon import run_console
from chatbox.daemon import (
    BOX_KEY_FILE,
    CHAIN_KEYSTORE_FILE,
    DATABASE_FILE,
    Node,
    serve,
)
from chatbox.domain.identity import Identity
from chatbox.errors import ChatboxError, ConfigError, InvalidInput, NotVerified, Unavailable
from chatbox.services import backup
from chatbox.services.proofs import Verifier

EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 3
EXIT_NOT_VERIFIED = 4
EXIT_ERROR = 1
DEV_DATA_DIR = Path(".chatbox-dev")
DEV_ANCHOR_INTERVAL = 60  # seconds: anchors show up quickly while developing
PASSPHRASE_VARIABLE = "CHATBOX_BACKUP_PASSPHRASE"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
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


def _settings(args: argparse.Namespace) -> config.Settings:
    """The owner's settings; the boot-time commands go on without them if they are broken
    (the box must stay reachable to be fixed) and report the problem instead."""
    args.settings_problem = None
    try:
        return config.load(args.config)
    except ConfigError as exc:
        if not getattr(args, "tolerates_broken_settings", False):
            raise
        args.settings_problem = f"{args.config}: {exc.message}"
        return config.Settings()


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
    console = commands.add_parser(
        "console", help="the serial console for a headless owner (status, ip, wifi, ...)"
    )
    console.add_argument(
        "--port", help="serial device (default: serial_port, e.g. /dev/ttyGS0 or /dev/serial0)"
    )
    console.add_argument(
        "--network-dir",
        type=Path,
        default=CONNECTIONS_DIR,
        help="where NetworkManager keeps its connections (default: %(default)s)",
    )
    console.set_defaults(command=_console, tolerates_broken_settings=True)
    boot = commands.add_parser(
        "firstboot",
        help="apply chatbox.toml from the boot partition, make keys, set up Kubo (idempotent)",
    )
    boot.add_argument("--root", type=Path, default=Path("/"), help="the system's root")
    boot.add_argument(
        "--boot",
        type=Path,
        default=firstboot.Layout().boot,
        help="the boot (FAT) partition (default: %(default)s)",
    )
    boot.add_argument("--ipfs-bin", default="ipfs", help="the Kubo binary (default: ipfs)")
    boot.set_defaults(command=_firstboot, tolerates_broken_settings=True)
    verify = commands.add_parser(
        "verify",
        help="check that messages are anchored on chain, from IPFS and the chain alone",
    )
    verify.add_argument("cids", nargs="+", metavar="CID", help="message CIDs to check")
    verify.add_argument("--rpc", help="chain JSON-RPC URL (default: chain_rpc_url)")
    verify.add_argument("--registry", help="registry address (default: registry_address)")
    verify.add_argument("--ipfs", help="IPFS RPC API URL (default: ipfs_api)")
    verify.add_argument(
        "--proof",
        type=Path,
        help="a proof from GET /api/v1/messages/CID/proof (needed for private channels)",
    )
    verify.set_defaults(command=_verify)
    for name, text in (
        ("backup", "write the box's keys, accounts and channels to a passphrase-locked file"),
        ("restore", "bring a backup into an empty box and refetch its anchored history"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("file", type=Path, help="the backup file")
        sub.add_argument(
            "--passphrase-file",
            type=Path,
            help=f"read the passphrase from this file (else ${PASSPHRASE_VARIABLE}, else ask)",
        )
        sub.set_defaults(command=_backup if name == "backup" else _restore)
    return parser


def _run(args: argparse.Namespace, settings: config.Settings) -> int:
    asyncio.run(serve(settings, on_ready=_announce, settings_file=args.config))
    return 0


def _dev(args: argparse.Namespace, settings: config.Settings) -> int:
    from chatbox import devstack  # the development stack, and the chain stack with it

    data_dir = args.data_dir.resolve()
    ipfs = devstack.IpfsDaemon(data_dir / "ipfs")
    anvil = devstack.AnvilNode(data_dir / "anvil")
    try:
        print(f"chatbox: starting IPFS ({ipfs.repo}) and anvil ...", flush=True)
        ipfs.start()
        anvil.start()
        node_dir = data_dir / "node"
        secrets = keyfile.load_or_create(node_dir / BOX_KEY_FILE)
        account = chain_account.load_or_create(node_dir / CHAIN_KEYSTORE_FILE, secrets.vault_key)
        registry = asyncio.run(devstack.prepare_chain(anvil, account))
        print(f"chatbox: registry at {registry}, box account {account.address}", flush=True)
        dev_settings = dataclasses.replace(
            settings,
            data_dir=node_dir,
            http_host="127.0.0.1",
            http_port=args.port,
            ipfs_api=ipfs.api_url,
            chain_rpc_url=anvil.rpc_url,
            chain_id=anvil.chain_id,
            registry_address=registry,
            anchor_confirmations=1,
            anchor_interval=min(settings.anchor_interval, DEV_ANCHOR_INTERVAL),
        )
        asyncio.run(serve(dev_settings, on_ready=_announce))
    finally:
        anvil.stop()
        ipfs.stop()
    return 0


def _reindex(args: argparse.Namespace, settings: config.Settings) -> int:
    async def rebuild() -> None:
        node = Node(settings)
        await node.open()
        try:
            for report in await node.services.reindexer.reindex_all():
                print(f"{report.name}: {report.entries} entries ({report.channel_id})")
        finally:
            await node.stop()

    asyncio.run(rebuild())
    return 0


def _announce(url: str) -> None:
    print(f"chatbox is running at {url} (Ctrl-C stops it)", flush=True)


def _console(args: argparse.Namespace, settings: config.Settings) -> int:
    port = args.port or settings.serial_port
    asyncio.run(run_console(settings, port, args.config, args.settings_problem, args.network_dir))
    return 0


def _firstboot(args: argparse.Namespace, settings: config.Settings) -> int:
    layout = firstboot.Layout(root=args.root, boot=args.boot)
    report = firstboot.run(layout, args.ipfs_bin)
    for change in report.changed:
        print(change, flush=True)
    if not report.changed:
        print("nothing to change", flush=True)
    if report.problem:
        # The box keeps running on its current settings; the status page and console say why.
        print(f"chatbox: {report.problem}", file=sys.stderr)
    return 0


def _verify(args: argparse.Namespace, settings: config.Settings) -> int:
    rpc = args.rpc or settings.chain_rpc_url
    registry = args.registry or settings.registry_address
    if not registry:
        raise ConfigError("registry_address", "verify needs the registry (--registry ADDR)")
    proof = None
    if args.proof is not None:
        try:
            proof = json.loads(args.proof.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read the proof {args.proof}", detail=str(exc)) from exc

    async def check() -> int:
        from chatbox.adapters.chain import ChainClient  # web3, loaded by the commands using it

        chain = ChainClient(rpc, registry)
        async with aiohttp.ClientSession() as session:
            verifier = Verifier(IpfsClient(session, args.ipfs or settings.ipfs_api), chain)
            failed = 0
            try:
                for cid in args.cids:
                    try:
                        found = await verifier.verify(cid, proof)
                    except NotVerified as exc:
                        failed += 1
                        detail = f" ({exc.detail})" if exc.detail else ""
                        print(f"{cid}: NOT VERIFIED: {exc.message}{detail}")
                        continue
                    print(
                        f"{cid}: verified: anchored in block {found.block} (tx {found.tx})"
                        f" by {found.box}, root 0x{found.root}"
                    )
            finally:
                await chain.close()
        return EXIT_NOT_VERIFIED if failed else 0

    return asyncio.run(check())


def _backup(args: argparse.Namespace, settings: config.Settings) -> int:
    passphrase = _passphrase(args, confirm=True)

    async def write() -> None:
        node = Node(settings)
        await node.open()
        try:
            data = await node.export_backup(passphrase)
        finally:
            await node.stop()
        write_file(args.file, data)

    asyncio.run(write())
    print(f"chatbox: backup written to {args.file}; keep it and its passphrase apart")
    return 0


def _restore(args: argparse.Namespace, settings: config.Settings) -> int:
    passphrase = _passphrase(args, confirm=False)
    contents = backup.read(args.file.read_bytes(), passphrase)
    data_dir = settings.data_dir
    if (data_dir / BOX_KEY_FILE).exists() or (data_dir / DATABASE_FILE).exists():
        raise ConfigError("data_dir", f"restore needs an empty box, and {data_dir} holds one")
    if not settings.registry_address:
        raise ConfigError("registry_address", "restore finds the box's history through it")
    keyfile.write(
        data_dir / BOX_KEY_FILE,
        keyfile.BoxSecrets(
            Identity.from_private_bytes(contents.keys.identity), contents.keys.vault_key
        ),
    )
    chain_account.write_keystore(
        data_dir / CHAIN_KEYSTORE_FILE, contents.keys.chain_key, contents.keys.vault_key
    )

    async def bring_back() -> backup.RestoreReport:
        node = Node(settings)
        await node.open()
        try:
            return await node.restorer().restore(contents)
        finally:
            await node.stop()

    report = asyncio.run(bring_back())
    print(
        f"chatbox: restored {report.accounts} accounts, {report.channels} channels"
        f" from {report.batches} anchored batches"
    )
    for name, entries in sorted(report.entries.items()):
        print(f"{name}: {entries} entries")
    return 0


def _passphrase(args: argparse.Namespace, confirm: bool) -> str:
    if args.passphrase_file is not None:
        return str(args.passphrase_file.read_text("utf-8")).rstrip("\n")
    if PASSPHRASE_VARIABLE in os.environ:
        return os.environ[PASSPHRASE_VARIABLE]
    if not sys.stdin.isatty():
        raise InvalidInput(f"give the passphrase with --passphrase-file or ${PASSPHRASE_VARIABLE}")
    passphrase = getpass.getpass("backup passphrase: ")
    if confirm and getpass.getpass("again: ") != passphrase:
        raise InvalidInput("the two passphrases differ")
    return passphrase
