"""Deterministic test data, streamed or whole, so large transfers can be checked byte for byte."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

MiB = 1024 * 1024


async def pattern(
    size: int, *, seed: int = 7, chunk: int = MiB, digest: Any = None
) -> AsyncIterator[bytes]:
    """Pseudo-random bytes, ``chunk`` at a time; feeds ``digest`` (a hashlib object) if given."""
    rng = random.Random(seed)
    left = size
    while left:
        data = rng.randbytes(min(chunk, left))
        left -= len(data)
        if digest is not None:
            digest.update(data)
        yield data


def pattern_bytes(size: int, *, seed: int = 7) -> bytes:
    """The same bytes :func:`pattern` streams (with its default chunk), in one piece."""
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        out += rng.randbytes(min(MiB, size - len(out)))
    return bytes(out)
