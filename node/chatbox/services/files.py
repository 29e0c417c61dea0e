"""Files: streamed to IPFS (sealed first in private channels), bounded, then referenced.

Neither direction holds a whole file in memory: uploads pass chunk by chunk through the
size limit and the stream sealer into IPFS; downloads come back through the opener.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass

from chatbox.domain.channels import Channel
from chatbox.domain.sealing import StreamOpener, StreamSealer
from chatbox.errors import ChatboxError, NotFound, TooLarge
from chatbox.ports import ContentStore, EntryLog
from chatbox.services.accounts import Member
from chatbox.services.channels import ChannelService
from chatbox.services.messages import Message, MessageService
from chatbox.services.storage import StorageGuard

_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_MIME = re.compile(r"[a-z0-9][a-z0-9.+\-]*/[a-z0-9][a-z0-9.+\-]*")
DEFAULT_MIME = "application/octet-stream"


@dataclass(frozen=True)
class Download:
    name: str
    mime: str
    size: int
    chunks: AsyncIterator[bytes]


class FileService:
    def __init__(
        self,
        log: EntryLog,
        content: ContentStore,
        channels: ChannelService,
        messages: MessageService,
        storage: StorageGuard,
        upload_limit: int,
    ) -> None:
        self._storage = storage
        self._log = log
        self._content = content
        self._channels = channels
        self._messages = messages
        self.upload_limit = upload_limit

    async def post_file(
        self,
        member: Member,
        channel_id: str,
        name: str,
        mime: str | None,
        chunks: AsyncIterator[bytes],
        expected_size: int = 0,
    ) -> Message:
        """Stream a file into IPFS, pinned, and post a message that refers to it.

        ``expected_size`` is what the request announced (0 when unknown); the disk reserve
        is checked against it before the first byte is written, then as the file arrives.
        """
        channel = await self._channels.for_member(member, channel_id)
        name = clean_file_name(name)
        self._storage.require_for_upload(expected_size)
        meter = _Upload(chunks, self.upload_limit, self._storage)
        source = _sealed(channel, meter.stream()) if channel.is_private else meter.stream()
        try:
            added = await self._content.add_stream(source, name)
        except Exception:
            if meter.stopped is not None:
                raise meter.stopped from None
            raise
        body = {
            "file": {
                "cid": added.cid,
                "name": name,
                "mime": clean_mime(mime, name),
                "size": meter.size,
            }
        }
        return await self._messages.post_body(member, channel, body)

    async def open_file(self, member: Member, file_cid: str) -> Download:
        """A file from a channel ``member`` belongs to, unsealed; others get NotFound."""
        for record in await self._log.file_entries(file_cid):
            try:
                channel = await self._channels.for_member(member, record.channel_id)
            except NotFound:
                continue
            file = self._messages.view(channel, record).file
            if file is None or file["cid"] != file_cid:
                continue
            chunks = self._content.cat(file_cid)
            if channel.is_private:
                chunks = _opened(channel, chunks)
            return Download(file["name"], file["mime"], file["size"], chunks)
        raise NotFound("no such file in your channels", detail=str(file_cid)[:80])


class _Upload:
    """Pass chunks through, counting, within the size limit and the disk reserve; remember
    why the stream was stopped, since the IPFS client reports it as its own failure."""

    def __init__(self, chunks: AsyncIterator[bytes], limit: int, storage: StorageGuard) -> None:
        self._chunks = chunks
        self._limit = limit
        self._storage = storage
        self.size = 0
        self.stopped: ChatboxError | None = None

    async def stream(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._storage.watch(self._chunks):
                self.size += len(chunk)
                if self.size > self._limit:
                    raise TooLarge(f"file is larger than the upload limit of {self._limit} bytes")
                yield chunk
        except ChatboxError as exc:
            self.stopped = exc
            raise


async def _sealed(channel: Channel, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    assert channel.key is not None
    sealer = StreamSealer(channel.key, file_aad(channel.id))
    async for chunk in chunks:
        if sealed := sealer.feed(chunk):
            yield sealed
    yield sealer.finish()


async def _opened(channel: Channel, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    assert channel.key is not None
    opener = StreamOpener(channel.key, file_aad(channel.id))
    async for chunk in chunks:
        if plain := opener.feed(chunk):
            yield plain
    yield opener.finish()


def file_aad(channel_id: str) -> bytes:
    return b"chatbox-file\n" + channel_id.encode("ascii")


def clean_file_name(name: str) -> str:
    """A file name safe to show and to offer for download: no paths, no control characters."""
    text = unicodedata.normalize("NFC", name if isinstance(name, str) else "")
    text = _UNSAFE_NAME.sub("_", text.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" .")
    return text[:200] or "file"


def clean_mime(mime: str | None, name: str) -> str:
    """The given MIME type if well-formed, else one guessed from the name."""
    if isinstance(mime, str) and _MIME.fullmatch(mime.strip().lower()):
        return mime.strip().lower()
    return mimetypes.guess_type(name)[0] or DEFAULT_MIME
