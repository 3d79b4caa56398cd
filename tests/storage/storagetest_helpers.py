"""Helpers shared by the storage tests (a module, not conftest, so tests can import them)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kernel.storage import S3Backend
from kernel.testing import free_port, pattern, pattern_bytes

SECRET = "test-presign-secret-0123456789abcdef"
MiB = 1024 * 1024


@dataclass(frozen=True)
class MotoS3:
    endpoint: str  # host:port
    access_key: str
    secret_key: str

    def backend(self, bucket: str, *, mount: str = "s3", **options: Any) -> S3Backend:
        return S3Backend(
            self.endpoint, bucket, self.access_key, self.secret_key, mount=mount, **options
        )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (symlinks not followed) with its content."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


async def sha256_of(chunks: AsyncIterator[bytes]) -> tuple[str, int]:
    digest, total = hashlib.sha256(), 0
    async for chunk in chunks:
        digest.update(chunk)
        total += len(chunk)
    return digest.hexdigest(), total


__all__ = [
    "SECRET",
    "MiB",
    "MotoS3",
    "free_port",
    "pattern",
    "pattern_bytes",
    "sha256_of",
    "snapshot",
]
