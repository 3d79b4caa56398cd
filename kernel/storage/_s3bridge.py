"""Feeding an async iterator to the blocking minio SDK, which reads uploads from a file object.

The SDK's thread calls ``read(n)``; each missing chunk is fetched by running the iterator's
``__anext__`` on the event loop and waiting for it, so the source is pulled at the pace the
upload drains it (natural back-pressure, nothing buffered beyond the part being built).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
from collections.abc import AsyncIterable


class ChunkReader:
    """File-like ``read(n)`` for the SDK's thread, fed by an async iterator on the loop."""

    def __init__(self, chunks: AsyncIterable[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self._iterator = chunks.__aiter__()
        self._loop = loop
        self._pending = b""
        self._eof = False
        self.cancelled = False
        self.source_error: BaseException | None = None

    async def _next(self) -> bytes | None:
        try:
            return await self._iterator.__anext__()
        except StopAsyncIteration:
            return None

    def _fetch(self) -> bytes | None:
        future = asyncio.run_coroutine_threadsafe(self._next(), self._loop)
        while True:
            if self.cancelled:
                future.cancel()
                raise OSError("upload cancelled")
            try:
                chunk = future.result(timeout=0.25)
            except concurrent.futures.TimeoutError:
                continue
            except BaseException as exc:
                self.source_error = exc
                raise
            if chunk is None:
                self._eof = True
            return bytes(chunk) if chunk is not None and not isinstance(chunk, bytes) else chunk

    def read(self, size: int = -1) -> bytes:
        # Return exactly ``size`` bytes (short only at EOF): the SDK then takes a whole part in
        # one read instead of concatenating small ones. BytesIO.getvalue() hands over its buffer
        # without a copy, and chunks are dropped as soon as they are copied in, so building a
        # part costs about one part of memory, not two.
        buffer = io.BytesIO()
        pending, self._pending = self._pending, b""
        while True:
            if pending:
                room = len(pending) if size < 0 else size - buffer.tell()
                buffer.write(memoryview(pending)[:room])
                if room < len(pending):
                    self._pending = pending[room:]
                    break
            if self._eof or (0 <= size <= buffer.tell()):
                break
            pending = b""  # drop the copied chunk before fetching the next one
            pending = self._fetch() or b""
        return buffer.getvalue()
