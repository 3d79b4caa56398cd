"""Throughput of AFS against the same work done directly (minio SDK, plain file I/O).

Used by ``scripts/bench.py``. Each figure is AFS MB/s with the direct figure as baseline, both
measured in the same run on the same data, best of ``rounds`` interleaved runs to damp noise.
``ratio`` = AFS / direct: 1.0 means the abstraction costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import random
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

from minio import Minio

from ._afs import AFS
from ._backend import DEFAULT_CHUNK_SIZE
from ._local import LocalBackend
from ._s3 import S3Backend, split_endpoint

MB = 1024 * 1024


async def _chunks(data: bytes, size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _drain(chunks: AsyncIterator[bytes]) -> int:
    total = 0
    async for chunk in chunks:
        total += len(chunk)
    return total


async def _best(rounds: int, size: int, run: Callable[[], Awaitable[Any]]) -> float:
    """Best MB/s of ``rounds`` runs of ``run`` moving ``size`` bytes."""
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        await run()
        best = max(best, size / MB / (time.perf_counter() - started))
    return best


def _figure(name: str, value: float, baseline: float) -> dict[str, Any]:
    return {
        "name": name,
        "value": round(value, 1),
        "unit": "MB/s",
        "baseline": round(baseline, 1),
        "ratio": round(value / baseline, 3) if baseline else None,
    }


def _direct_file_write(path: str, data: bytes, durable: bool) -> None:
    with open(path, "wb") as handle:
        for start in range(0, len(data), DEFAULT_CHUNK_SIZE):
            handle.write(data[start : start + DEFAULT_CHUNK_SIZE])
        if durable:
            handle.flush()
            os.fsync(handle.fileno())


def _direct_file_read(path: str) -> int:
    total = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(DEFAULT_CHUNK_SIZE):
            total += len(chunk)
    return total


async def _write_direct(path: str, data: bytes, durable: bool) -> None:
    await asyncio.to_thread(_direct_file_write, path, data, durable)


async def _write_afs(afs: AFS, data: bytes) -> None:
    await afs.write_stream("fs://local/a.bin", _chunks(data))


async def _read_afs(afs: AFS) -> None:
    await _drain(afs.open_read("fs://local/a.bin"))


async def _bench_local(data: bytes, rounds: int) -> list[dict[str, Any]]:
    size = len(data)
    figures = []
    with tempfile.TemporaryDirectory(prefix="webos-bench-") as tmp:
        direct = os.path.join(tmp, "direct.bin")
        for durable in (True, False):
            afs = AFS({"local": LocalBackend(os.path.join(tmp, "afs"), durable=durable)})
            await afs.start()
            suffix = "" if durable else "_nofsync"
            for _ in range(rounds):  # interleave so page-cache and disk state are shared
                # Each write makes a new file: replacing one would time freeing the old one,
                # which plain I/O does in open(O_TRUNC) and AFS after the write returns.
                await _remove(afs, direct)
                base_w = await _best(1, size, partial(_write_direct, direct, data, durable))
                afs_w = await _best(1, size, partial(_write_afs, afs, data))
                figures.append((f"local_write{suffix}", afs_w, base_w))
            if durable:
                for _ in range(rounds):
                    base_r = await _best(
                        1, size, lambda: asyncio.to_thread(_direct_file_read, direct)
                    )
                    afs_r = await _best(1, size, partial(_read_afs, afs))
                    figures.append(("local_read", afs_r, base_r))
            await _remove(afs, direct)
            await afs.close()
    return _best_of(figures)


async def _remove(afs: AFS, direct: str) -> None:
    """Delete both variants' last object, untimed, and let the file system settle."""
    if await afs.exists("fs://local/a.bin"):
        await afs.delete("fs://local/a.bin")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(direct)
    await asyncio.to_thread(os.sync)


def _best_of(samples: list[tuple[str, float, float]]) -> list[dict[str, Any]]:
    names = list(dict.fromkeys(name for name, _, _ in samples))
    out = []
    for name in names:
        values = [(v, b) for n, v, b in samples if n == name]
        out.append(_figure(name, max(v for v, _ in values), max(b for _, b in values)))
    return out


async def _bench_s3(
    endpoint: str, access_key: str, secret_key: str, data: bytes, rounds: int, region: str
) -> list[dict[str, Any]]:
    size = len(data)
    bucket = f"webos-bench-{uuid.uuid4().hex[:12]}"
    backend = S3Backend(endpoint, bucket, access_key, secret_key, mount="s3", region=region)
    afs = AFS({"s3": backend})
    await afs.start()  # creates the bucket
    host, secure = split_endpoint(endpoint, False)
    client = Minio(host, access_key, secret_key, secure=secure, region=region)

    def direct_put() -> None:
        client.put_object(bucket, "direct.bin", io.BytesIO(data), size)

    def direct_get() -> int:
        response = client.get_object(bucket, "direct.bin")
        try:
            return sum(len(chunk) for chunk in response.stream(DEFAULT_CHUNK_SIZE))
        finally:
            response.close()
            response.release_conn()

    samples = []
    try:
        for _ in range(rounds):
            base_w = await _best(1, size, lambda: asyncio.to_thread(direct_put))
            afs_w = await _best(1, size, lambda: afs.write_stream("fs://s3/afs.bin", _chunks(data)))
            samples.append(("s3_write", afs_w, base_w))
        for _ in range(rounds):
            base_r = await _best(1, size, lambda: asyncio.to_thread(direct_get))
            afs_r = await _best(1, size, lambda: _drain(afs.open_read("fs://s3/afs.bin")))
            samples.append(("s3_read", afs_r, base_r))
    finally:
        for name in ("direct.bin", "afs.bin"):
            await asyncio.to_thread(client.remove_object, bucket, name)
        await asyncio.to_thread(client.remove_bucket, bucket)
        await afs.close()
    return _best_of(samples)


async def run_storage_bench(
    s3_endpoint: str | None,
    access_key: str,
    secret_key: str,
    size_mb: int = 64,
    *,
    rounds: int = 3,
    region: str = "us-east-1",
) -> list[dict[str, Any]]:
    """Figures ``{"name","value","unit","baseline","ratio"}``; S3 ones only with an endpoint."""
    data = random.Random(1234).randbytes(size_mb * MB)
    figures = []
    if s3_endpoint:
        figures += await _bench_s3(s3_endpoint, access_key, secret_key, data, rounds, region)
    figures += await _bench_local(data, rounds)
    return figures
