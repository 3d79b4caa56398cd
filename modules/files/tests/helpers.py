"""Helpers shared by the files module's tests."""

from __future__ import annotations

import hashlib
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from kernel.testing import KernelHarness

MiB = 1024 * 1024


def storage_root(webos: KernelHarness) -> Path:
    return webos.data_dir / "storage"


async def pattern(
    size: int, *, seed: int = 7, chunk: int = MiB, digest: Any = None
) -> AsyncIterator[bytes]:
    """Deterministic pseudo-random bytes, ``chunk`` at a time; feeds ``digest`` if given."""
    rng = random.Random(seed)
    left = size
    while left:
        data = rng.randbytes(min(chunk, left))
        left -= len(data)
        if digest is not None:
            digest.update(data)
        yield data


def pattern_bytes(size: int, *, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
