"""Streaming file I/O in worker threads with as few thread hand-offs as possible.

A hand-off (submit to a thread, wake the event loop on completion) costs about as much as
copying 1 MiB from the page cache, so one hop per chunk halves local throughput. Both helpers
batch adaptively instead: while a thread call is in flight, work piles up (chunks to write) or
the next read grows (chunks to read), and the next hop carries all of it, up to a byte cap. A
slow peer (an HTTP client, a network upload) keeps batches at one chunk, so memory stays at a
couple of chunks per stream; a fast one gets few, large hops.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterable, AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

MAX_BATCH_BYTES = 4 * 1024 * 1024
"""Cap on bytes carried by one write hop (what piles up while the previous write runs)."""
MAX_READ_BATCH_BYTES = 1024 * 1024
"""Cap on one read hop: small chunks (HTTP-sized) are batched, 1 MiB chunks go one per hop with
one chunk of read-ahead. Larger read batches measured slower: fresh buffers are cache-cold."""
MAX_BATCH_CHUNKS = 512  # stays under IOV_MAX (1024 on Linux) for writev


def after(future: Future[Any] | None, action: Callable[[], None]) -> None:
    """Run ``action`` now, or once the in-flight thread call is over.

    Closing or unlinking must wait for it: the fd number could already belong to another file.
    """
    if future is None:
        action()
    else:
        future.add_done_callback(lambda _: action())


def _pread_many(fd: int, position: int, sizes: list[int]) -> list[bytes]:
    out = []
    for size in sizes:
        data = os.pread(fd, size, position)
        if data:
            out.append(data)
            position += len(data)
        if len(data) < size:
            break
    return out


def _writev_all(fd: int, chunks: list[bytes]) -> None:
    views = [memoryview(chunk) for chunk in chunks]
    while views:
        written = os.writev(fd, views[:MAX_BATCH_CHUNKS])
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


async def read_chunks(
    pool: ThreadPoolExecutor,
    fd: int,
    *,
    offset: int,
    length: int | None,
    chunk_size: int,
    close: Callable[[], None],
) -> AsyncIterator[bytes]:
    """Yield ``[offset, offset+length)`` in chunks of ``chunk_size``; always calls ``close``."""
    max_batch = max(1, MAX_READ_BATCH_BYTES // chunk_size)
    position, remaining, batch = offset, length, 1

    def plan() -> list[int]:
        sizes = []
        left = remaining
        for _ in range(batch):
            if left is not None and left <= 0:
                break
            size = chunk_size if left is None else min(chunk_size, left)
            sizes.append(size)
            if left is not None:
                left -= size
        return sizes

    sizes = plan()
    ahead: Future[list[bytes]] | None = pool.submit(_pread_many, fd, position, sizes)
    try:
        while ahead is not None:
            # The caller waiting on us means the disk is the bottleneck: read more per hop.
            batch = max(1, batch // 2) if ahead.done() else min(max_batch, batch * 2)
            chunks = await asyncio.wrap_future(ahead)
            ahead = None
            got = sum(len(chunk) for chunk in chunks)
            position += got
            if remaining is not None:
                remaining -= got
            if got == sum(sizes) and (sizes := plan()):
                ahead = pool.submit(_pread_many, fd, position, sizes)  # read-ahead
            for chunk in chunks:
                yield chunk
    finally:
        after(ahead, close)


async def write_chunks(
    pool: ThreadPoolExecutor,
    fd: int,
    chunks: AsyncIterable[bytes],
    *,
    on_abort: Callable[[], None],
) -> None:
    """Write every chunk to ``fd``; on any failure run ``on_abort`` once the fd is idle."""
    behind: Future[None] | None = None
    pending: list[bytes] = []
    pending_bytes = 0
    finished = False
    try:
        async for chunk in chunks:
            if not chunk:
                continue
            # bytes() copies only mutable buffers, which the producer may reuse.
            pending.append(chunk if isinstance(chunk, bytes) else bytes(chunk))
            pending_bytes += len(chunk)
            busy = behind is not None and not behind.done()
            if busy and pending_bytes < MAX_BATCH_BYTES and len(pending) < MAX_BATCH_CHUNKS:
                continue  # let chunks pile up while the disk is busy
            if behind is not None:
                await asyncio.wrap_future(behind)
            behind = pool.submit(_writev_all, fd, pending)
            pending, pending_bytes = [], 0
        if behind is not None:
            await asyncio.wrap_future(behind)
        if pending:
            behind = pool.submit(_writev_all, fd, pending)
            await asyncio.wrap_future(behind)
        finished = True
    finally:
        if not finished:
            after(behind if behind is not None and not behind.done() else None, on_abort)
