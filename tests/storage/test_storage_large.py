"""100 MB streamed through AFS on each backend with bounded memory.

tracemalloc sees every Python allocation of this process (worker threads included; moto runs in
another process), so its peak is what streaming really holds, independent of machine speed.
"""

from __future__ import annotations

import hashlib
import tracemalloc

import pytest
from storagetest_helpers import MiB, pattern, sha256_of

from kernel.storage import AFS

SIZE = 100 * MiB
# S3 holds a few 5 MiB multipart parts (two uploads in flight, one being filled, SDK copies);
# local holds at most three queued 1 MiB writes and one filling. Both are far below the 100 MB
# that a read-it-all implementation would need.
WRITE_BUDGET = {"local": 16 * MiB, "s3": 32 * MiB}
READ_BUDGET = 8 * MiB


@pytest.mark.slow
async def test_100mb_streamed_write_and_read_bounded_memory(afs: AFS, mount: str) -> None:
    urn = f"fs://{mount}/large/100mb.bin"
    written = hashlib.sha256()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        stat = await afs.write_stream(urn, pattern(SIZE, seed=42, digest=written))
        write_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        digest, total = await sha256_of(afs.open_read(urn, chunk_size=MiB))
        read_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(f"{mount}: write peak {write_peak / MiB:.1f} MiB, read peak {read_peak / MiB:.1f} MiB")
    assert stat.size == SIZE
    assert (digest, total) == (written.hexdigest(), SIZE)
    assert write_peak < WRITE_BUDGET[mount]
    assert read_peak < READ_BUDGET
