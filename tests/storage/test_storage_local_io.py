"""Local I/O: cached chunks are read on the event loop, evicted ones in a worker thread, and
durable writes start writeback as they go.

The page cache is emptied for a file with ``posix_fadvise(DONTNEED)`` (it drops clean pages,
and a durable write leaves them clean), so both paths run on real files.
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import itertools
import mmap
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from storagetest_helpers import MiB, pattern

from kernel.storage import AFS, LocalBackend, _fileio

pytestmark = pytest.mark.skipif(
    not hasattr(os, "RWF_NOWAIT") or not hasattr(os, "posix_fadvise"),
    reason="page-cache probing is Linux-only; other systems always read in threads",
)


def _resident_pages(path: Path, offset: int, length: int) -> int:
    """How many pages of the range the page cache holds, by ``mincore`` (not by the probe that
    the tests check)."""
    libc = ctypes.CDLL(None, use_errno=True)
    page = mmap.PAGESIZE
    with open(path, "rb") as file:
        length = length or os.fstat(file.fileno()).st_size - offset
        # A private mapping is writable, so ctypes can take its address; nothing touches it.
        mapped = mmap.mmap(file.fileno(), length, access=mmap.ACCESS_COPY, offset=offset)
    view = (ctypes.c_char * length).from_buffer(mapped)
    pages = (ctypes.c_ubyte * ((length + page - 1) // page))()
    try:
        if libc.mincore(ctypes.c_void_p(ctypes.addressof(view)), ctypes.c_size_t(length), pages):
            raise OSError(ctypes.get_errno(), "mincore failed")
        return sum(flag & 1 for flag in pages)
    finally:
        del view
        mapped.close()


def _evict(path: Path, offset: int = 0, length: int = 0) -> None:
    """Drop the range from the page cache, and check that it went: the kernel skips pages that
    are busy at that moment, so it is asked again a few times."""
    for _ in range(20):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        if _resident_pages(path, offset, length) == 0:
            return
        time.sleep(0.05)
    pytest.skip("the kernel kept the pages of this file cached after POSIX_FADV_DONTNEED")


@pytest.fixture
def threaded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Positions of the reads that went to a worker thread."""
    positions: list[int] = []
    real_pread_many = _fileio._pread_many

    def counting(fd: int, position: int, sizes: list[int]) -> list[bytes]:
        positions.append(position)
        return real_pread_many(fd, position, sizes)

    monkeypatch.setattr(_fileio, "_pread_many", counting)
    return positions


async def _stored(tmp_path: Path, size: int) -> tuple[AFS, Path, str]:
    afs = AFS({"local": LocalBackend(tmp_path / "root", mount="local")})
    await afs.start()
    written = hashlib.sha256()
    await afs.write_stream("fs://local/big.bin", pattern(size, seed=7, digest=written))
    return afs, tmp_path / "root" / "big.bin", written.hexdigest()


async def test_the_probe_tells_cached_from_evicted_pages(tmp_path: Path) -> None:
    afs, path, _ = await _stored(tmp_path, 16 * MiB)
    try:
        _evict(path)
        fd = os.open(path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)  # read-ahead off: only what is read
        try:
            # Probed once: an RWF_NOWAIT read of an evicted page starts reading it in, so a
            # second probe may find it cached already.
            evicted = _fileio._in_page_cache(fd, 0, MiB)
            if evicted is None:
                pytest.skip("this file system does not support RWF_NOWAIT reads")
            assert evicted is False
            os.pread(fd, MiB, 0)  # now cached
            assert _fileio._in_page_cache(fd, 0, MiB) is True
            # Elsewhere, the file is still on disk.
            assert _fileio._in_page_cache(fd, 12 * MiB, MiB) is False
        finally:
            os.close(fd)
    finally:
        await afs.close()


async def test_reads_mixing_cached_and_evicted_chunks_return_every_byte(
    tmp_path: Path, threaded: list[int]
) -> None:
    afs, path, expected = await _stored(tmp_path, 12 * MiB + 12345)
    try:
        _evict(path, 4 * MiB, 4 * MiB)  # the middle third goes back to disk
        # Read-ahead off for this descriptor: reading the cached first third sequentially would
        # otherwise bring evicted pages back before they are probed, or not, as the disk allows.
        fd = os.open(path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        digest = hashlib.sha256()
        with ThreadPoolExecutor(2) as pool:
            chunks = _fileio.read_chunks(
                pool, fd, offset=0, length=None, chunk_size=MiB, close=lambda: os.close(fd)
            )
            async for chunk in chunks:
                digest.update(chunk)
        assert digest.hexdigest() == expected
        assert threaded and all(4 * MiB <= position < 8 * MiB for position in threaded)

        # Through the AFS (read-ahead on), whichever way each chunk goes, every byte comes back.
        _evict(path, 4 * MiB, 4 * MiB)
        digest = hashlib.sha256()
        async for chunk in afs.open_read("fs://local/big.bin", chunk_size=MiB):
            digest.update(chunk)
        assert digest.hexdigest() == expected

        threaded.clear()
        ranged = b"".join(
            [c async for c in afs.open_read("fs://local/big.bin", offset=MiB - 1, length=MiB + 2)]
        )
        assert ranged == (await afs.read("fs://local/big.bin"))[MiB - 1 : 2 * MiB + 1]
        assert threaded == []  # all of it was cached by then
    finally:
        await afs.close()


async def test_a_long_cached_read_gives_other_tasks_a_turn(tmp_path: Path) -> None:
    afs, _, _ = await _stored(tmp_path, 32 * MiB)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    running = asyncio.create_task(ticker())
    try:
        await afs.read("fs://local/big.bin")  # cached from here on
        chunks = 0
        async for _ in afs.open_read("fs://local/big.bin", chunk_size=MiB):
            chunks += 1
            if chunks == 1:
                ticks = 0  # count only while cached chunks are read on the loop
        assert chunks == 32
        assert ticks >= 32 * MiB // _fileio.PAUSE_EVERY_BYTES - 1
    finally:
        running.cancel()
        await afs.close()


async def test_a_file_system_without_rwf_nowait_falls_back_to_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threaded: list[int]
) -> None:
    path = tmp_path / "plain.bin"
    path.write_bytes(pattern_bytes := os.urandom(3 * MiB + 7))
    monkeypatch.setattr(_fileio, "_in_page_cache", lambda *_: None)  # what EOPNOTSUPP gives
    fd = os.open(path, os.O_RDONLY)
    with ThreadPoolExecutor(2) as pool:
        chunks = _fileio.read_chunks(
            pool, fd, offset=0, length=len(pattern_bytes), chunk_size=MiB, close=lambda: None
        )
        assert b"".join([chunk async for chunk in chunks]) == pattern_bytes
    os.close(fd)
    assert threaded and threaded[0] == 0


def test_writeback_is_started_on_files_and_refused_where_it_cannot_be(tmp_path: Path) -> None:
    path = tmp_path / "dirty.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    read_end, write_end = os.pipe()
    try:
        os.write(fd, b"x" * MiB)
        assert _fileio.start_writeback(fd, 0, MiB) is True
        assert _fileio.start_writeback(write_end, 0, MiB) is False  # a pipe has no pages
    finally:
        for descriptor in (fd, read_end, write_end):
            os.close(descriptor)


async def test_a_durable_write_kicks_writeback_as_it_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kicked: list[tuple[int, int]] = []
    real = _fileio.start_writeback

    def recording(fd: int, offset: int, length: int) -> bool:
        kicked.append((offset, length))
        return real(fd, offset, length)

    monkeypatch.setattr(_fileio, "start_writeback", recording)
    afs, _, _ = await _stored(tmp_path, 20 * MiB)  # durable by default
    await afs.close()
    assert kicked and kicked[0][0] == 0
    assert all(a + n == b for (a, n), (b, _) in itertools.pairwise(kicked))
    assert sum(n for _, n in kicked) >= 16 * MiB


async def test_a_failing_write_stops_the_stream_and_aborts_once_the_writes_are_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    running = [0]
    real = _fileio._pwritev_all

    def failing(fd: int, chunks: list[bytes], offset: int, writeback: object = None) -> None:
        calls.append(offset)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        running[0] += 1
        try:
            real(fd, chunks, offset)
        finally:
            running[0] -= 1

    monkeypatch.setattr(_fileio, "_pwritev_all", failing)
    aborted: list[int] = []
    fd = os.open(tmp_path / "out.bin", os.O_WRONLY | os.O_CREAT)
    with ThreadPoolExecutor(4) as pool, pytest.raises(OSError, match="No space left"):
        await _fileio.write_chunks(
            pool,
            fd,
            pattern(16 * MiB, chunk=MiB),
            on_abort=lambda: aborted.append(running[0]),
        )
    os.close(fd)
    assert aborted == [0]  # once, with no write still running
    assert len(calls) < 16  # it stopped early


def test_serial_jobs_run_in_order_one_at_a_time() -> None:
    import threading
    import time

    seen: list[int] = []
    active, most = [0], [0]
    lock = threading.Lock()

    def job(n: int) -> int:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.001)
        seen.append(n)
        with lock:
            active[0] -= 1
        return n * 2

    with ThreadPoolExecutor(4) as pool:
        serial = _fileio._Serial(pool)
        futures = [serial.submit(job, n) for n in range(40)]
        assert [future.result(timeout=10) for future in futures] == [n * 2 for n in range(40)]
    assert seen == list(range(40)) and most[0] == 1
