"""The IPFS node, spoken to over the Kubo RPC API (https://docs.ipfs.tech/reference/kubo/rpc/).

Only documented Kubo RPC calls are used, served by the same Kubo the box ships and the
development stack runs. Every RPC call is a POST. Failures of the daemon become
``IpfsUnavailable`` (down, slow, or refusing) or ``NotFound``; no aiohttp error leaves
this module. The RPC API is admin-level: it is only ever reached on loopback.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

import aiohttp

from chatbox.adapters.car import batch_archive
from chatbox.domain.cid import raw_cid
from chatbox.errors import IpfsUnavailable, NotFound
from chatbox.ports import AddedFile, NodeIdentity, RepoStats

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
# An upload or download of a large file may take long, but never stall without progress.
STREAM_READ_TIMEOUT = 60.0
_NOT_FOUND_HINTS = ("not found", "not pinned", "no link named", "could not resolve")


class IpfsClient:
    """Async client of one IPFS node's RPC API at ``api_url`` (e.g. http://127.0.0.1:5001)."""

    def __init__(
        self, session: aiohttp.ClientSession, api_url: str, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self._session = session
        self._base = api_url.rstrip("/") + "/api/v0/"
        self._timeout = timeout

    async def put_block(self, data: bytes) -> str:
        """Store ``data`` as one pinned raw block; returns its CID after checking it."""
        expected = raw_cid(data)
        params = {"cid-codec": "raw", "mhtype": "sha2-256", "pin": "true"}
        form = aiohttp.FormData()
        form.add_field("file", data, filename="block", content_type="application/octet-stream")
        reply = await self._post_json("block/put", params, data=form)
        if reply.get("Key") != expected:
            raise IpfsUnavailable(
                "IPFS stored a block under an unexpected CID", detail=str(reply.get("Key"))
            )
        return expected

    async def put_blocks(self, blocks: list[bytes]) -> str:
        """Store raw ``blocks`` in one request, pinned through one batch root; returns it.

        One ``dag/import`` of a CAR archive and one recursive pin cost far less than a
        ``block/put`` and a pin per block (see ``car.py``).
        """
        root, archive = batch_archive(blocks)
        form = aiohttp.FormData()
        form.add_field(
            "file", archive, filename="batch.car", content_type="application/vnd.ipld.car"
        )
        body = await self._post_bytes("dag/import", {"pin-roots": "true"}, None, data=form)
        for line in body.splitlines():
            reply = _json_line(line).get("Root") or {}
            if reply.get("Cid", {}).get("/") == root:
                if reply.get("PinErrorMsg"):
                    raise IpfsUnavailable(
                        "IPFS could not pin a batch", detail=str(reply["PinErrorMsg"])
                    )
                return root
        raise IpfsUnavailable("IPFS did not confirm the batch it imported", detail=root)

    async def put_pinned_blocks(self, blocks: list[bytes]) -> None:
        """Store raw ``blocks`` in one request, each pinned by itself, so that one can be
        unpinned and removed again (a deleted message's content block) without the rest."""
        expected = {raw_cid(block) for block in blocks}
        form = aiohttp.FormData()
        for block in blocks:
            form.add_field("file", block, filename="block", content_type="application/octet-stream")
        params = {"cid-codec": "raw", "mhtype": "sha2-256", "pin": "true"}
        body = await self._post_bytes("block/put", params, DEFAULT_TIMEOUT, data=form)
        stored = {str(_json_line(line).get("Key")) for line in body.splitlines()}
        if not expected <= stored:
            raise IpfsUnavailable(
                "IPFS did not confirm every block it was given",
                detail=", ".join(sorted(expected - stored))[:200],
            )

    async def drop(self, cid: str) -> None:
        """Unpin ``cid`` and remove its blocks from this node, but for those another pin
        still holds (Kubo refuses to remove a pinned block): a deleted message's file or
        content block. Only what the node holds is looked at; nothing is fetched."""
        listing = await self._post_bytes(
            "refs",
            {"arg": cid, "recursive": "true", "unique": "true", "offline": "true"},
            STREAM_READ_TIMEOUT,
        )
        children = [str(_json_line(line).get("Ref") or "") for line in listing.splitlines()]
        with contextlib.suppress(NotFound):  # never pinned here, or by an earlier attempt
            await self._post_json("pin/rm", {"arg": cid})
        blocks = [cid, *[child for child in children if child]]
        # One request for them all; Kubo answers 200 and names each block it could not
        # remove (pinned by something else, or not here), which is as wanted.
        params = [("arg", block) for block in blocks] + [("quiet", "true")]
        await self._post_bytes("block/rm", params, DEFAULT_TIMEOUT)

    async def get_block(self, cid: str, timeout: float | None = None) -> bytes:
        return await self._post_bytes("block/get", {"arg": cid}, timeout)

    async def add_stream(self, chunks: AsyncIterator[bytes], name: str) -> AddedFile:
        """Add a file read from ``chunks`` without holding it in memory, pinned, CIDv1."""
        params = {
            "cid-version": "1",
            "raw-leaves": "true",
            "pin": "true",
            "cid-base": "base32",
            "progress": "false",
        }
        with aiohttp.MultipartWriter("form-data") as form:
            part = form.append(chunks, {"Content-Type": "application/octet-stream"})
            part.set_content_disposition("form-data", name="file", filename=name or "file")
            reply = await self._post_json("add", params, data=form, timeout=None)
        return AddedFile(cid=reply["Hash"], dag_size=int(reply.get("Size", 0)))

    async def cat(self, cid: str) -> AsyncIterator[bytes]:
        """Stream a file's bytes."""
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self._timeout, sock_read=STREAM_READ_TIMEOUT
        )
        try:
            async with self._session.post(
                self._base + "cat", params={"arg": cid}, timeout=timeout
            ) as response:
                await _raise_for_reply(response)
                async for chunk in response.content.iter_chunked(64 * 1024):
                    yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _unavailable(exc) from exc

    async def pin(self, cid: str, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        """Pin recursively, fetching what is missing from peers; ``None`` waits for any size."""
        await self._post_json("pin/add", {"arg": cid}, timeout=timeout)

    async def unpin(self, cid: str) -> None:
        await self._post_json("pin/rm", {"arg": cid})

    async def is_pinned(self, cid: str) -> bool:
        try:
            await self._post_json("pin/ls", {"arg": cid})
        except NotFound:
            return False
        return True

    async def pinned_among(self, cids: Iterable[str]) -> set[str]:
        """Those of ``cids`` that are pinned, directly or through a pinned root.

        One listing of every pin: asking per CID walks every recursive pin each time,
        which grows with the repository.
        """
        wanted = set(cids)
        body = await self._post_bytes(
            "pin/ls", {"type": "all", "stream": "true"}, STREAM_READ_TIMEOUT
        )
        listed = {str(_json_line(line).get("Cid", "")) for line in body.splitlines()}
        return wanted & listed

    async def identity(self) -> NodeIdentity:
        reply = await self._post_json("id", {})
        return NodeIdentity(
            peer_id=reply["ID"],
            addresses=list(reply.get("Addresses") or []),
            agent=reply.get("AgentVersion", ""),
        )

    async def repo_stats(self) -> RepoStats:
        reply = await self._post_json("repo/stat", {"size-only": "true"})
        # Recursive pins only: listing indirect ones would walk every pinned DAG.
        pins = await self._post_bytes(
            "pin/ls", {"type": "recursive", "stream": "true"}, DEFAULT_TIMEOUT
        )
        return RepoStats(
            repo_size=int(reply.get("RepoSize", 0)),
            storage_max=int(reply.get("StorageMax", 0)),
            pins=sum(1 for line in pins.splitlines() if _json_line(line).get("Cid")),
        )

    async def swarm_connect(self, multiaddr: str) -> None:
        await self._post_json("swarm/connect", {"arg": multiaddr})

    async def swarm_disconnect(self, multiaddr: str) -> None:
        await self._post_json("swarm/disconnect", {"arg": multiaddr})

    async def swarm_peers(self) -> set[str]:
        """Peer ids of the libp2p peers connected right now."""
        reply = await self._post_json("swarm/peers", {})
        return {str(peer["Peer"]) for peer in reply.get("Peers") or [] if "Peer" in peer}

    async def publish(self, topic: str, data: bytes) -> None:
        """Publish on a pubsub topic; Kubo 0.11+ takes the topic multibase-encoded.

        Kubo names a pubsub message by the hash of its data, so the same bytes published
        twice within its seen-messages window are refused as "validation ignored": they
        went out the first time, which is all a publisher asks.
        """
        form = aiohttp.FormData()
        form.add_field("file", data, filename="data", content_type="application/octet-stream")
        try:
            await self._post_json(
                "pubsub/pub", {"arg": _multibase(topic.encode())}, data=form, empty_ok=True
            )
        except IpfsUnavailable as exc:
            if "validation ignored" not in exc.detail:
                raise

    async def subscribe(self, topic: str) -> AsyncIterator[tuple[str, bytes]]:
        """Yield (sender peer id, data) for each message on ``topic``, until cancelled."""
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._timeout, sock_read=None)
        try:
            async with self._session.post(
                self._base + "pubsub/sub",
                params={"arg": _multibase(topic.encode())},
                timeout=timeout,
            ) as response:
                await _raise_for_reply(response)
                async for line in response.content:
                    message = _pubsub_message(line)
                    if message is not None:
                        yield message
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _unavailable(exc) from exc

    async def _post_json(
        self,
        path: str,
        params: dict[str, str],
        data: Any = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        empty_ok: bool = False,
    ) -> Any:
        body = await self._post_bytes(path, params, timeout, data)
        if empty_ok and not body.strip():
            return {}
        try:
            # Streaming calls (add) answer one JSON object a line; the last one is the result.
            return json.loads(body.strip().splitlines()[-1])
        except (ValueError, IndexError) as exc:
            raise IpfsUnavailable(
                "IPFS answered with something other than JSON",
                detail=body[:200].decode("utf-8", "replace"),
            ) from exc

    async def _post_bytes(
        self,
        path: str,
        params: dict[str, str] | list[tuple[str, str]],
        timeout: float | None,
        data: Any = None,
    ) -> bytes:
        limit = aiohttp.ClientTimeout(
            total=timeout if timeout is not None else None,
            sock_connect=self._timeout,
            sock_read=None if timeout is not None else STREAM_READ_TIMEOUT,
        )
        try:
            async with self._session.post(
                self._base + path, params=params, data=data, timeout=limit
            ) as response:
                await _raise_for_reply(response)
                return await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _unavailable(exc) from exc


async def _raise_for_reply(response: aiohttp.ClientResponse) -> None:
    if response.status < 400:
        return
    text = (await response.text(errors="replace"))[:500]
    try:
        message = str(json.loads(text).get("Message", text))
    except (ValueError, AttributeError):
        message = text
    if any(hint in message.lower() for hint in _NOT_FOUND_HINTS):
        raise NotFound("not found on IPFS", detail=message)
    raise IpfsUnavailable("IPFS refused the request", detail=message)


def _json_line(line: bytes) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _unavailable(exc: BaseException) -> IpfsUnavailable:
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return IpfsUnavailable("IPFS did not answer in time; is the daemon overloaded?")
    return IpfsUnavailable("cannot reach the IPFS daemon; is it running?", detail=str(exc)[:200])


def _multibase(data: bytes) -> str:
    """Multibase 'u': base64url without padding (https://github.com/multiformats/multibase)."""
    return "u" + base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _from_multibase(text: str) -> bytes:
    if not text.startswith("u"):
        raise ValueError("unsupported multibase prefix")
    body = text[1:]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def _pubsub_message(line: bytes) -> tuple[str, bytes] | None:
    """Decode one pubsub line (``from``, multibase ``data``); None for a blank keep-alive."""
    if not line.strip():
        return None
    try:
        fields = json.loads(line)
        return str(fields["from"]), _from_multibase(fields["data"])
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring a malformed pubsub message from the IPFS daemon")
        return None
