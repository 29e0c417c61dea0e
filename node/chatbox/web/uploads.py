"""Multipart uploads read as a stream: the file part flows on without being buffered.

Quart's ``request.files`` would spool the whole upload first; on a 512 MB Pi the body is
instead fed chunk by chunk through Werkzeug's sans-IO multipart decoder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, File, MultipartDecoder, NeedData

from chatbox.errors import InvalidInput

FILE_FIELD = "file"
_MAX_HEADER_BYTES = 64 * 1024
# The decoder refuses to buffer more than _MAX_HEADER_BYTES at once, and a read from the
# client may be larger than that: it is fed in slices well under the bound.
_FEED_BYTES = 16 * 1024


@dataclass
class Upload:
    name: str
    mime: str | None
    chunks: AsyncIterator[bytes]


async def file_part(body: AsyncIterator[bytes], content_type: str) -> Upload:
    """The first part named ``file`` of a multipart body, as a stream of its bytes."""
    kind, options = parse_options_header(content_type)
    boundary = options.get("boundary", "")
    if kind != "multipart/form-data" or not boundary:
        raise InvalidInput("upload must be multipart/form-data with a 'file' part")
    try:
        delimiter = boundary.encode("ascii")  # RFC 2046: a boundary is 7-bit text
    except UnicodeEncodeError as exc:
        raise InvalidInput("the multipart boundary is not ASCII") from exc
    decoder = MultipartDecoder(delimiter, _MAX_HEADER_BYTES)
    events = _events(decoder, body)
    async for event in events:
        if isinstance(event, File) and event.name == FILE_FIELD:
            return Upload(event.filename, event.headers.get("Content-Type"), _data(events))
        if isinstance(event, Epilogue):
            break
    raise InvalidInput("upload has no 'file' part")


async def _events(decoder: MultipartDecoder, body: AsyncIterator[bytes]) -> AsyncIterator[object]:
    chunks = body.__aiter__()
    pending = memoryview(b"")
    while True:
        event = _next_event(decoder)
        if isinstance(event, NeedData):
            if decoder.complete:
                raise InvalidInput("upload ended in the middle of a part")
            if not pending:
                chunk = await anext(chunks, None)
                if chunk is None:
                    decoder.receive_data(None)
                    continue
                pending = memoryview(chunk)
            decoder.receive_data(bytes(pending[:_FEED_BYTES]))
            pending = pending[_FEED_BYTES:]
            continue
        yield event
        if isinstance(event, Epilogue):
            return


def _next_event(decoder: MultipartDecoder) -> object:
    try:
        return decoder.next_event()
    except ValueError as exc:  # Werkzeug's word for a body that breaks the multipart rules
        raise InvalidInput("upload is not well-formed multipart data", detail=str(exc)) from exc


async def _data(events: AsyncIterator[object]) -> AsyncIterator[bytes]:
    async for event in events:
        if not isinstance(event, Data):
            break
        if event.data:
            yield event.data
        if not event.more_data:
            return
    raise InvalidInput("upload's file part is malformed")
