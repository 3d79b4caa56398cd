"""Stream the ``file`` part of a multipart/form-data body without spooling it anywhere.

Litestar's form parsing writes every file part to a temporary file before the handler runs.
Here the push parser from ``multipart`` (the library Litestar itself uses) feeds the part's
bytes to AFS as they arrive, so an upload of any size holds one chunk at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from litestar import Request
from litestar.exceptions import ClientException
from multipart import MultipartSegment, ParserError, ParserLimitReached, PushMultipartParser

from ._http import rechunk

FILE_FIELD = "file"
MAX_PARTS = 64
MAX_HEADER_BYTES = 8 * 1024

T = TypeVar("T")
Event = MultipartSegment | bytes | None


def boundary_of(request: Request[Any, Any, Any]) -> str:
    media_type, options = request.content_type
    if media_type != "multipart/form-data":
        raise ClientException("expected a multipart/form-data body with a 'file' field")
    boundary = options.get("boundary")
    if not boundary:
        raise ClientException("multipart boundary missing in Content-Type")
    return boundary


async def _events(chunks: AsyncIterator[bytes], boundary: str) -> AsyncIterator[Event]:
    parser = PushMultipartParser(
        boundary, max_header_size=MAX_HEADER_BYTES, max_segment_count=MAX_PARTS
    )
    async for chunk in chunks:
        # An empty chunk (the request stream ends with one) tells the parser the input ended,
        # so a truncated body raises ParserError instead of passing for complete.
        for event in parser.parse(chunk):
            yield event
        if parser.closed:
            break
    if not parser.closed:
        for event in parser.parse(b""):
            yield event


async def store_file_part(
    request: Request[Any, Any, Any],
    store: Callable[[str, str | None, AsyncIterator[bytes]], Awaitable[T]],
) -> T:
    """Find the first ``file`` part and call ``store(filename, content_type, chunks)``.

    Other fields are skipped without being buffered; parts after the stored file are read and
    ignored. A malformed or truncated body is a 400, and AFS stores nothing for it (a failing
    source never leaves an object).
    """
    events = _events(request.stream(), boundary_of(request))
    try:
        async for event in events:
            if not isinstance(event, MultipartSegment) or event.name != FILE_FIELD:
                continue
            if event.filename is None:
                raise ClientException("the 'file' field must be a file (with a filename)")

            async def part() -> AsyncIterator[bytes]:
                async for item in events:
                    if item is None:
                        return
                    if isinstance(item, MultipartSegment):  # unreachable: a part ends first
                        raise ClientException("malformed multipart body")
                    yield item

            result = await store(event.filename, event.content_type, rechunk(part()))
            async for _ in events:  # drain the rest so the connection stays usable
                pass
            return result
    except (ParserError, ParserLimitReached) as exc:
        raise ClientException(f"invalid multipart/form-data body: {exc}") from None
    finally:
        await events.aclose()
    raise ClientException("the multipart body has no 'file' field")
