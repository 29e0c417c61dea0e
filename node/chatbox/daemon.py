"""The composition root: build adapters and services, start them in order, stop in reverse.

``Node`` owns every background task: it keeps a reference, logs a failure, and cancels
and awaits them on stop. ``serve`` adds the web app under hypercorn and signal handling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config as HypercornConfig

from chatbox import __version__
from chatbox.adapters import keyfile
from chatbox.adapters.account_store import SqliteAccountStore
from chatbox.adapters.ipfs import IpfsClient
from chatbox.adapters.store import SqliteStore
from chatbox.config import Settings
from chatbox.domain.sealing import DEFAULT_PASSWORD_COST
from chatbox.services.accounts import AccountService
from chatbox.services.channels import ChannelService
from chatbox.services.files import FileService
from chatbox.services.live import LiveFeed
from chatbox.services.messages import MessageService
from chatbox.services.outbox import DEFAULT_OUTBOX_TIMING, Outbox, OutboxTiming
from chatbox.services.reindex import Reindexer
from chatbox.services.sessions import SessionService
from chatbox.services.status import BoxInfo, StatusService
from chatbox.web.app import WebServices, create_app

log = logging.getLogger(__name__)
STOP_TIMEOUT = 10.0
DATABASE_FILE = "chatbox.db"
BOX_KEY_FILE = "box.key"


@dataclass
class Services:
    accounts: AccountService
    channels: ChannelService
    messages: MessageService
    files: FileService
    outbox: Outbox
    reindexer: Reindexer
    status: StatusService
    sessions: SessionService
    live: LiveFeed


class Node:
    """The node without its web face: adapters, services and background workers."""

    def __init__(
        self,
        settings: Settings,
        password_cost: int = DEFAULT_PASSWORD_COST,
        outbox_timing: OutboxTiming = DEFAULT_OUTBOX_TIMING,
    ) -> None:
        self.settings = settings
        self._password_cost = password_cost
        self._outbox_timing = outbox_timing
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._store: SqliteStore | None = None
        self.services: Services

    async def start(self) -> None:
        data_dir = self.settings.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        secrets = keyfile.load_or_create(data_dir / BOX_KEY_FILE)
        self._store = store = SqliteStore(data_dir / DATABASE_FILE)
        await store.open()
        self._session = aiohttp.ClientSession()
        ipfs = IpfsClient(self._session, self.settings.ipfs_api)
        outbox = Outbox(store, ipfs, self._outbox_timing)
        people = SqliteAccountStore(store.database)
        live = LiveFeed()
        channels = ChannelService(store, people, secrets.vault_key)
        messages = MessageService(store, channels, outbox, live)
        accounts = AccountService(store, people, self.settings.registration, self._password_cost)
        box = BoxInfo(self.settings.box_name, secrets.identity.public_key, __version__, time.time())
        self.services = Services(
            accounts=accounts,
            channels=channels,
            messages=messages,
            files=FileService(store, ipfs, channels, messages, self.settings.upload_limit),
            outbox=outbox,
            reindexer=Reindexer(store, ipfs, channels, outbox),
            status=StatusService(box, store, ipfs, outbox),
            sessions=SessionService(accounts, people),
            live=live,
        )
        self.spawn(outbox.run(), "outbox")

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` in the background, owned by the node until it stops."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    async def stop(self) -> None:
        """Cancel the workers, then close the adapters, in reverse order of start."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT)
        if self._session is not None:
            await self._session.close()
        if self._store is not None:
            await self._store.close()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())


async def serve(settings: Settings, on_ready: Callable[[str], None] | None = None) -> None:
    """Run the node and its web app until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    node = Node(settings)
    await node.start()
    try:
        app = create_app(
            web_services(node.services), settings.upload_limit, settings.box_name, __version__
        )
        config = HypercornConfig()
        config.bind = [f"{settings.http_host}:{settings.http_port}"]
        config.accesslog = None
        config.graceful_timeout = 5.0
        server = asyncio.create_task(hypercorn_serve(app, config, shutdown_trigger=stop.wait))
        if on_ready is not None:
            on_ready(f"http://{_display_host(settings.http_host)}:{settings.http_port}")
        await server
    finally:
        with contextlib.suppress(Exception):
            await node.stop()


def web_services(services: Services) -> WebServices:
    """What the web face may use of the node's services."""
    return WebServices(
        accounts=services.accounts,
        sessions=services.sessions,
        channels=services.channels,
        messages=services.messages,
        files=services.files,
        live=services.live,
        status=services.status,
    )


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host
