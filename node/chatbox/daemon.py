"""The composition root: build adapters and services, start them in order, stop in reverse.

``Node.open`` only builds: it opens the database and the clients and wires the services,
and starts nothing, so one-shot commands (``chatbox backup``, ``reindex``, ``restore``)
can run beside a live node without taking its control socket, announcing heads or
anchoring a second time. ``Node.start`` builds and then runs: the control socket and the
workers, each owned by the node, which keeps a reference, logs a failure, and cancels and
awaits them on stop. ``serve`` adds the web app under hypercorn and signal handling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config as HypercornConfig

from chatbox import __version__, firstboot
from chatbox.adapters import chain_account, keyfile
from chatbox.adapters.account_store import SqliteAccountStore
from chatbox.adapters.anchor_store import SqliteAnchorStore
from chatbox.adapters.channel_store import SqliteChannelStore
from chatbox.adapters.control_socket import SOCKET_NAME, serve_control
from chatbox.adapters.conversation_store import SqliteConversationStore
from chatbox.adapters.disk import usage_of
from chatbox.adapters.ipfs import IpfsClient
from chatbox.adapters.log_store import SqliteLogStore
from chatbox.adapters.mdns import lan_addresses
from chatbox.adapters.peer_store import SqlitePeerStore
from chatbox.adapters.systemd_notify import SystemdNotifier
from chatbox.config import Settings
from chatbox.domain.channels import Channel
from chatbox.domain.redaction import shown_url
from chatbox.domain.sealing import DEFAULT_PASSWORD_COST
from chatbox.errors import ChainUnavailable, ConfigError
from chatbox.lan_discovery import Advertised, LanDiscovery
from chatbox.services import backup
from chatbox.services.accounts import AccountService
from chatbox.services.admin import AdminActions
from chatbox.services.anchoring import POLL_SECONDS, Anchorer, AnchorTiming
from chatbox.services.backup import BoxKeys
from chatbox.services.chain_sender import ChainSender, FeePolicy
from chatbox.services.channels import ChannelService
from chatbox.services.control import NodeControl
from chatbox.services.direct import ConversationService
from chatbox.services.directory import RegistryDirectory
from chatbox.services.files import FileService
from chatbox.services.live import LiveFeed
from chatbox.services.messages import MessageService
from chatbox.services.moderation import ModerationService
from chatbox.services.onboarding import Onboarding
from chatbox.services.outbox import DEFAULT_OUTBOX_TIMING, Outbox, OutboxTiming
from chatbox.services.peers import PeerService
from chatbox.services.pinning import FilePinner
from chatbox.services.proofs import AnchorContext, ProofService
from chatbox.services.reindex import Reindexer
from chatbox.services.search import SearchService
from chatbox.services.sessions import SessionService
from chatbox.services.status import BoxInfo, ChainInfo, LanInfo, StatusService, web_address
from chatbox.services.storage import StorageGuard
from chatbox.services.supervisor import TaskSupervisor
from chatbox.services.sync import DEFAULT_SYNC_TIMING, ChannelSync, SyncTiming, build_sync
from chatbox.services.sync.people_topic import PeopleTopic
from chatbox.signals import stop_on_signals
from chatbox.web.app import WebServices, create_app

if TYPE_CHECKING:
    # web3 is loaded only by a box that anchors (about 8 MB more; see Node.start).
    from chatbox.adapters.chain import ChainClient

log = logging.getLogger(__name__)
STOP_TIMEOUT = 10.0
DATABASE_FILE = "chatbox.db"
BOX_KEY_FILE = keyfile.FILE_NAME
CHAIN_KEYSTORE_FILE = chain_account.FILE_NAME
CHAIN_CHECK_TIMEOUT = 5.0
HEALTH_POLL_SECONDS = 0.1


@dataclass
class Services:
    accounts: AccountService
    onboarding: Onboarding
    channels: ChannelService
    messages: MessageService
    moderation: ModerationService
    conversations: ConversationService
    files: FileService
    outbox: Outbox
    reindexer: Reindexer
    status: StatusService
    sessions: SessionService
    live: LiveFeed
    proofs: ProofService
    directory: RegistryDirectory
    anchor_queue: SqliteAnchorStore
    anchorer: Anchorer | None  # None when no registry is configured
    chain: ChainClient | None
    sync: ChannelSync
    people_topic: PeopleTopic
    peers: PeerService
    pinner: FilePinner
    lan: LanDiscovery
    search: SearchService


class Node:
    """The node without its web face: adapters, services and background workers."""

    def __init__(
        self,
        settings: Settings,
        password_cost: int = DEFAULT_PASSWORD_COST,
        outbox_timing: OutboxTiming = DEFAULT_OUTBOX_TIMING,
        anchor_poll: float = POLL_SECONDS,
        sync_timing: SyncTiming = DEFAULT_SYNC_TIMING,
        advertise: bool = False,
        settings_file: Path | None = None,
    ) -> None:
        self.settings = settings
        # First boot records beside the settings file whether the owner's file was applied.
        self._settings_file = settings_file
        self._sync_timing = sync_timing
        self._advertise = advertise
        self._anchor_poll = anchor_poll
        self._password_cost = password_cost
        self._outbox_timing = outbox_timing
        self._workers = TaskSupervisor("node")
        self._session: aiohttp.ClientSession | None = None
        self._store: SqliteLogStore | None = None
        self._account_tables: SqliteAccountStore | None = None
        self._channel_tables: SqliteChannelStore | None = None
        self._conversation_tables: SqliteConversationStore | None = None
        self._chain: ChainClient | None = None
        self._ipfs: IpfsClient | None = None
        self._control: asyncio.Server | None = None
        self._stopped = False
        self.services: Services

    async def start(self) -> None:
        """Build the node, then run it: control socket, outbox, sync, peers, pinning,
        anchoring and (with ``advertise``) mDNS."""
        await self.open()
        await self._run()

    async def open(self) -> None:
        """Build adapters and services and start nothing: what one-shot commands use."""
        data_dir = self.settings.data_dir
        # Key files are read, and the chain keystore decrypted (scrypt), off the event loop.
        await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
        self._secrets = secrets = await asyncio.to_thread(
            keyfile.load_or_create, data_dir / BOX_KEY_FILE
        )
        keystore = data_dir / CHAIN_KEYSTORE_FILE
        if self.settings.registry_address:
            from chatbox.adapters.chain import ChainClient

            account = await asyncio.to_thread(
                chain_account.load_or_create, keystore, secrets.vault_key
            )
            address = str(account.address)
            self._chain = ChainClient(
                self.settings.chain_rpc_url, self.settings.registry_address, account
            )
            await self._check_chain_id(self._chain)
        else:
            # Without a chain the box needs only its address (shown for funding it).
            address = await asyncio.to_thread(
                chain_account.address_or_create, keystore, secrets.vault_key
            )
        chain = self._chain
        # One SQLite file; each adapter owns its tables, each service sees only its roles.
        self._store = log_tables = SqliteLogStore(data_dir / DATABASE_FILE)
        await log_tables.open()
        # No connection cap: each channel's pubsub subscription holds one for good.
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self._ipfs = ipfs = IpfsClient(self._session, self.settings.ipfs_api)
        outbox = Outbox(pins=log_tables, content=ipfs, timing=self._outbox_timing)
        self._account_tables = account_tables = SqliteAccountStore(log_tables.database)
        self._channel_tables = channel_tables = SqliteChannelStore(log_tables.database)
        anchor_tables = SqliteAnchorStore(log_tables.database)
        peer_tables = SqlitePeerStore(log_tables.database)
        directory = RegistryDirectory(chain, txs=anchor_tables)
        live = LiveFeed()
        channels = ChannelService(
            book=channel_tables,
            read_marks=channel_tables,
            vault_key=secrets.vault_key,
            directory=directory,
        )
        storage = StorageGuard(partial(usage_of, data_dir), self.settings.disk_reserve)
        messages = MessageService(
            log_tables, log_tables, channels, outbox, live, storage, anchors=anchor_tables
        )
        accounts = AccountService(
            accounts=account_tables,
            registration=account_tables,
            directory=account_tables,
            default_policy=self.settings.registration,
            password_cost=self._password_cost,
        )
        channels.ask_before_public(accounts.may_create_public)
        accounts.when_removed(channels.leave_all)
        box = BoxInfo(self.settings.box_name, secrets.identity.public_key, __version__, time.time())
        sync = build_sync(
            secrets.identity,
            self.settings.box_name,
            network=ipfs,
            replica=log_tables,
            peers=peer_tables,
            files=peer_tables,
            channels=channels,
            index=messages,
            local_names=accounts.local_names,
            timing=self._sync_timing,
        )
        self._conversation_tables = conversation_tables = SqliteConversationStore(
            log_tables.database
        )
        conversations = ConversationService(
            conversation_tables, conversation_tables, channels, account_tables
        )
        people_topic = PeopleTopic(
            secrets.identity,
            sync.announcer,
            ipfs,
            conversations,
            sync.people,
            peer_tables,
            sync.report,
            every=self._sync_timing.people,
            retry=self._sync_timing.retry,
            local_names=accounts.local_names,
            local_handles=accounts.handles,
        )
        moderation = ModerationService(
            log_tables, log_tables, channels, messages, directory, chain, outbox
        )
        # The events between services, wired here rather than by the services themselves.
        messages.on_post(sync.exchange.announce_post)
        messages.guard_writes(moderation.may_write)
        messages.screen_arrivals(moderation.screen)
        messages.on_arrival(moderation.arrived)
        channels.on_registered(moderation.found)
        directory.on_refresh(moderation.enforce_everywhere)
        channels.on_added(sync.transport.follow_new_channels)
        accounts.also_name_from(sync.people.names, sync.people.handles)
        channels.keep_unlinked(conversations.is_conversation)
        channels.on_member_joined(moderation.joined)
        moderation.on_continued(conversations.carry_on)
        conversations.ask_successors(moderation.successor_of)

        async def grants_may_open(channel: Channel) -> None:
            for account_id in await channels.accounts_in(channel.id):
                live.grant_waiting(account_id)

        moderation.on_heard_continued(grants_may_open)
        conversations.on_joined(live.join)
        conversations.on_waiting(live.grant_waiting)
        conversations.on_news(people_topic.announce_soon)
        peers = PeerService(
            ipfs, peer_tables, peer_tables, sync.transport, sync.people, self._sync_timing
        )
        peers.on_box_connected(people_topic.announce_soon)
        key = secrets.identity.public_key
        advertised = Advertised(self.settings.box_name, key, self.settings.http_port, __version__)
        lan = LanDiscovery(
            ipfs, advertised, peers.found, peers.lost, self._sync_timing.retry, self._advertise
        )
        anchorer = None
        if chain is not None:
            sender = ChainSender(
                chain,
                anchor_tables,
                FeePolicy(self.settings.gas_ceiling, self.settings.anchor_confirmations),
            )
            anchorer = Anchorer(
                secrets.identity,
                secrets.vault_key,
                chain,
                self.settings.chain_id,
                anchor_tables,
                anchor_tables,
                ipfs,
                channels,
                sender,
                directory,
                AnchorTiming(float(self.settings.anchor_interval), self._anchor_poll),
            )
        context = (
            None
            if chain is None
            else AnchorContext(self.settings.chain_id, chain.registry, address)
        )
        chain_info = ChainInfo(
            self.settings.chain_rpc_url, self.settings.chain_id, chain, anchorer, address
        )
        self.services = Services(
            accounts=accounts,
            onboarding=Onboarding(accounts, channels, settings=account_tables),
            channels=channels,
            messages=messages,
            moderation=moderation,
            conversations=conversations,
            files=FileService(
                log_tables, ipfs, channels, messages, storage, self.settings.upload_limit
            ),
            outbox=outbox,
            reindexer=Reindexer(log_tables, ipfs, channels, outbox),
            status=StatusService(
                box,
                log_tables,
                log_tables,
                ipfs,
                outbox,
                chain_info,
                sync.transport,
                peers,
                lan.status,
                storage,
                LanInfo(self.settings.http_port, lan_addresses),
                self._notices(),
            ),
            sessions=SessionService(accounts, account_tables, welcome=conversations.welcome),
            search=SearchService(log_tables, channels, messages),
            live=live,
            proofs=ProofService(anchor_tables, messages, context),
            directory=directory,
            anchor_queue=anchor_tables,
            anchorer=anchorer,
            chain=chain,
            sync=sync.transport,
            people_topic=people_topic,
            peers=peers,
            pinner=FilePinner(ipfs, peer_tables),
            lan=lan,
        )

    async def _run(self) -> None:
        services = self.services
        control = NodeControl(
            services.status,
            services.peers,
            services.channels,
            services.messages,
            services.accounts,
            services.anchorer,
        )
        self._control = await serve_control(self.settings.data_dir / SOCKET_NAME, control.handle)
        await services.moderation.enforce_everywhere()  # what a crash left undone
        self.spawn(services.outbox.run(), "outbox")
        self.spawn(services.sync.run(), "sync")
        self.spawn(services.people_topic.run(), "people topic")
        self.spawn(services.peers.run(), "peers")
        self.spawn(services.pinner.run(), "pinning")
        if services.anchorer is not None:
            self.spawn(services.anchorer.run(), "anchoring")
        if services.lan.enabled:
            self.spawn(services.lan.run(), "mdns")

    def _notices(self) -> list[str]:
        """What first boot (which runs before the node) could not do, for the status page."""
        if self._settings_file is None:
            return []
        problem = firstboot.read_problem(self._settings_file.parent / firstboot.RECORD_FILE)
        return [problem] if problem else []

    async def _check_chain_id(self, chain: ChainClient) -> None:
        """A chain that answers with another id is a wrong setting; one that is down may wait."""
        try:
            async with asyncio.timeout(CHAIN_CHECK_TIMEOUT):
                actual = await chain.chain_id()
        except (ChainUnavailable, TimeoutError):
            log.warning("the chain at %s does not answer; anchors wait", shown_url(chain.rpc_url))
            return
        if actual != self.settings.chain_id:
            await chain.close()
            raise ConfigError(
                "chain_id",
                f"the chain at {shown_url(chain.rpc_url)} is chain {actual},"
                f" not {self.settings.chain_id}",
            )

    async def export_backup(self, passphrase: str) -> bytes:
        assert self._account_tables is not None and self._channel_tables is not None
        secrets = self._secrets
        keystore = self.settings.data_dir / CHAIN_KEYSTORE_FILE
        account = chain_account.load_or_create(keystore, secrets.vault_key)
        keys = BoxKeys(secrets.identity.private_bytes(), secrets.vault_key, bytes(account.key))
        return await backup.export(
            self._account_tables,
            self._channel_tables,
            self.services.channels,
            keys,
            passphrase,
            await self.services.conversations.held(),
        )

    def restorer(self) -> backup.Restorer:
        """What brings a backup's history back; the caller has checked registry_address."""
        assert self._chain is not None and self._ipfs is not None
        assert self._account_tables is not None and self._channel_tables is not None
        secrets = self._secrets
        return backup.Restorer(
            self._account_tables,
            self._channel_tables,
            self.services.channels,
            self.services.reindexer,
            self._ipfs,
            self._chain,
            self.services.anchor_queue,
            secrets.identity.public_key,
            self._chain.address,
            secrets.vault_key,
            self._conversation_tables,
        )

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` in the background, owned by the node until it stops."""
        self._workers.spawn(work, name)

    async def stop(self) -> None:
        """Cancel the workers, then close the adapters, in reverse order of start (once)."""
        if self._stopped:
            return
        self._stopped = True
        if self._control is not None:
            self._control.close()
        await self._workers.stop(STOP_TIMEOUT)
        if self._session is not None:
            await self._session.close()
        if self._chain is not None:
            await self._chain.close()
        if self._store is not None:
            await self._store.close()


async def serve(
    settings: Settings,
    on_ready: Callable[[str], None] | None = None,
    settings_file: Path | None = None,
) -> None:
    """Run the node and its web app until SIGINT or SIGTERM."""
    stop = stop_on_signals()
    notifier = SystemdNotifier()
    node = Node(settings, advertise=settings.mdns == "on", settings_file=settings_file)
    await node.start()
    try:
        app = create_app(
            web_services(node.services), settings.upload_limit, settings.box_name, __version__
        )
        config = HypercornConfig()
        config.bind = [f"{settings.http_host}:{settings.http_port}"]
        config.accesslog = None
        # Through the node's own logging set-up (journald), not a second stderr handler.
        config.errorlog = logging.getLogger("hypercorn.error")
        config.graceful_timeout = 5.0
        server = asyncio.create_task(hypercorn_serve(app, config, shutdown_trigger=stop.wait))
        url = web_address(_display_host(settings.http_host), settings.http_port, "")
        if await _answers_health(url, server) and notifier.active:
            notifier.ready(f"serving {url}")
            if notifier.watchdog_interval is not None:
                watchdog = feed_watchdog(notifier, url, notifier.watchdog_interval)
                node.spawn(watchdog, "watchdog")
        if on_ready is not None:
            on_ready(url)
        await server
    finally:
        notifier.stopping()
        with contextlib.suppress(Exception):
            await node.stop()


async def _answers_health(url: str, server: asyncio.Task[None]) -> bool:
    """Wait until the web app answers /healthz; False if the server stopped first."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        while not server.done():
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                if await _healthy(http, url):
                    return True
            await asyncio.sleep(HEALTH_POLL_SECONDS)
    return False


async def feed_watchdog(notifier: SystemdNotifier, url: str, interval: float) -> None:
    """Tell systemd the node is alive while its web app answers; silence gets it restarted."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=interval)) as http:
        while True:
            try:
                if await _healthy(http, url):
                    notifier.watchdog()
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("the web app did not answer its health check: %r", exc)
            await asyncio.sleep(interval)


async def _healthy(http: aiohttp.ClientSession, url: str) -> bool:
    async with http.get(url + "/healthz") as response:
        return response.status == 200


def web_services(services: Services) -> WebServices:
    """What the web face may use of the node's services."""
    return WebServices(
        accounts=services.accounts,
        onboarding=services.onboarding,
        sessions=services.sessions,
        channels=services.channels,
        messages=services.messages,
        moderation=services.moderation,
        conversations=services.conversations,
        files=services.files,
        live=services.live,
        status=services.status,
        proofs=services.proofs,
        peers=services.peers,
        admin=AdminActions(services.peers, services.anchorer),
        search=services.search,
    )


def _display_host(host: str) -> str:
    """The host part of a URL that reaches a server bound to ``host`` from this machine."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
