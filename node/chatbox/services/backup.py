"""Backup and restore: the box's secrets in one passphrase-locked file, history from chain.

The backup holds what cannot be found anywhere else: the box identity and vault key, the
chain account key, the accounts (their keys still locked by their own passwords), the
channels with their keys, and the memberships. Messages are not in it: restoring reads
the box's ``Anchored`` events on chain, opens its manifests from IPFS (sealed entries with
the vault key), and refetches each channel's history from its last anchored heads.
Messages posted after the last anchor come back only from peers that hold them.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from typing import Any

from chatbox.domain import canonical
from chatbox.domain import manifest as manifests
from chatbox.domain.channels import Channel
from chatbox.domain.sealing import lock_with_password, unlock_with_password
from chatbox.errors import ChatboxError, Conflict, InvalidInput
from chatbox.ports import (
    AccountBook,
    AnchorEvent,
    BatchBook,
    ChainReader,
    ChannelBook,
    ContentStore,
    ConversationBook,
)
from chatbox.services.channels import ChannelService
from chatbox.services.reindex import Reindexer

log = logging.getLogger(__name__)
MAGIC = b"CBB1"
VERSION = 1
MIN_PASSPHRASE = 8
FETCH_TIMEOUT = 30.0


@dataclass(frozen=True)
class BoxKeys:
    identity: bytes  # the box identity's private bytes
    vault_key: bytes
    chain_key: bytes  # the secp256k1 private key of the box's chain account


@dataclass(frozen=True)
class Backup:
    keys: BoxKeys
    accounts: list[dict[str, Any]]
    channels: list[Channel]
    memberships: list[tuple[str, str]]  # (account name, channel id)
    conversations: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id -> members


@dataclass(frozen=True)
class RestoreReport:
    accounts: int
    channels: int
    batches: int
    entries: dict[str, int]  # channel name -> entries brought back


async def export(
    accounts: AccountBook,
    book: ChannelBook,
    channels: ChannelService,
    keys: BoxKeys,
    passphrase: str,
    conversations: dict[str, tuple[str, ...]] | None = None,
) -> bytes:
    """The backup file's bytes, locked with ``passphrase``."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise InvalidInput(f"the backup passphrase must be at least {MIN_PASSPHRASE} characters")
    people = await accounts.accounts()
    names = {account.id: account.name for account in people}
    payload = {
        "v": VERSION,
        "box": {
            "identity": keys.identity.hex(),
            "vault_key": keys.vault_key.hex(),
            "chain_key": keys.chain_key.hex(),
        },
        "accounts": [
            {
                "name": account.name,
                "display_name": account.display_name,
                "public_key": account.public_key,
                "sealing_public_key": account.sealing_public_key,
                "locked_keys": base64.b64encode(account.locked_keys).decode("ascii"),
                "is_admin": account.is_admin,
                "state": account.state,
            }
            for account in people
        ],
        "channels": [
            {
                "id": channel.id,
                "name": channel.name,
                "title": channel.title,
                "visibility": channel.visibility,
                "key": None if channel.key is None else channel.key.hex(),
                "founder": channel.founder,
                "follows": channel.follows,
            }
            for channel in await channels.all()
        ],
        "memberships": [
            [names[account_id], channel_id] for account_id, channel_id in await book.memberships()
        ],
        # Which private channels are direct conversations, and between whom.
        "conversations": {
            channel_id: list(members) for channel_id, members in (conversations or {}).items()
        },
    }
    return MAGIC + lock_with_password(canonical.dumps(payload), passphrase)


def read(data: bytes, passphrase: str) -> Backup:
    """Open a backup file; a wrong passphrase or damaged file raises a clear error."""
    if not data.startswith(MAGIC):
        raise InvalidInput("this is not a chatbox backup file")
    payload = canonical.loads(unlock_with_password(data[len(MAGIC) :], passphrase))
    try:
        if payload["v"] != VERSION:
            raise InvalidInput("this backup was written by a newer chatbox")
        box = payload["box"]
        return Backup(
            keys=BoxKeys(
                bytes.fromhex(box["identity"]),
                bytes.fromhex(box["vault_key"]),
                bytes.fromhex(box["chain_key"]),
            ),
            accounts=list(payload["accounts"]),
            channels=[
                Channel(
                    item["id"],
                    item["name"],
                    "private" if item["visibility"] == "private" else "public",
                    None if item["key"] is None else bytes.fromhex(item["key"]),
                    str(item.get("title") or ""),
                    item.get("founder"),
                    item.get("follows"),
                )
                for item in payload["channels"]
            ],
            memberships=[(str(name), str(channel)) for name, channel in payload["memberships"]],
            conversations={  # older backups hold none
                str(channel_id): tuple(str(key) for key in members)
                for channel_id, members in payload.get("conversations", {}).items()
            },
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput("the backup file is damaged", detail=str(exc)[:200]) from exc


class Restorer:
    """Brings a backup into an empty box and its history back from chain and IPFS."""

    def __init__(
        self,
        accounts: AccountBook,
        book: ChannelBook,
        channels: ChannelService,
        reindexer: Reindexer,
        content: ContentStore,
        chain: ChainReader,
        batches: BatchBook,
        box_public_key: str,
        box_address: str,
        vault_key: bytes,
        conversations: ConversationBook | None = None,
    ) -> None:
        self._conversations = conversations
        self._accounts = accounts
        self._book = book
        self._channels = channels
        self._reindexer = reindexer
        self._content = content
        self._chain = chain
        self._batches = batches
        self._box_public_key = box_public_key
        self._box_address = box_address
        self._vault_key = vault_key

    async def restore(self, backup: Backup) -> RestoreReport:
        if await self._accounts.account_count() or await self._book.all_channels():
            raise Conflict("restore needs an empty box; this one already has accounts")
        ids = {}
        for account in backup.accounts:
            record = await self._accounts.add_account(
                account["name"],
                account["public_key"],
                account["sealing_public_key"],
                base64.b64decode(account["locked_keys"]),
                bool(account["is_admin"]),
                account.get("display_name"),
            )
            ids[record.name.casefold()] = record.id
            # Older backups carry no state: their accounts were all active.
            if account.get("state") == "removed":
                await self._accounts.remove_account(record.id)
            elif account.get("state") == "disabled":
                await self._accounts.set_disabled(record.id, True)
        for channel in backup.channels:
            await self._channels.adopt(channel)
        for name, channel_id in backup.memberships:
            await self._book.join(ids[name.casefold()], channel_id)
        if self._conversations is not None:
            for channel_id, members in backup.conversations.items():
                await self._conversations.add_conversation(channel_id, members)
        batches = await self._anchored_batches()
        latest: dict[str, list[str]] = {}
        for _, _, entries in batches:
            for entry in entries:
                latest[entry.channel_id] = entry.heads
        restored = {}
        known = {channel.id: channel for channel in backup.channels}
        for channel_id, heads in latest.items():
            if channel_id in known:
                report = await self._reindexer.rebuild(known[channel_id], heads)
                restored[report.name] = report.entries
        for event, raw, entries in batches:
            await self._batches.import_batch(
                event, raw, [(e.channel_id, e.heads, e.nonce) for e in entries]
            )
        return RestoreReport(len(backup.accounts), len(backup.channels), len(batches), restored)

    async def _anchored_batches(
        self,
    ) -> list[tuple[AnchorEvent, bytes, list[manifests.BatchEntry]]]:
        """Every batch this box anchored, oldest first: its manifest and entries opened."""
        found = []
        for event in await self._chain.anchors(box=self._box_address):
            try:
                raw = await self._content.get_block(event.manifest_cid, timeout=FETCH_TIMEOUT)
                manifest = manifests.parse(raw)
            except ChatboxError as exc:
                log.warning("skipping manifest %s: %s", event.manifest_cid, exc.message)
                continue
            if manifest.box != self._box_public_key or manifest.root != event.root:
                log.warning("skipping manifest %s: not this box's batch", event.manifest_cid)
                continue
            entries = dict(manifest.open_entries)
            for index in manifest.sealed_entries:
                entries[index] = manifests.open_entry(manifest, index, self._vault_key)
            ordered = [entries[index] for index in sorted(entries)]
            if [e.leaf for e in ordered] != manifest.leaves:
                log.warning("skipping manifest %s: entries do not match leaves", event.manifest_cid)
                continue
            found.append((event, raw, ordered))
        return found
