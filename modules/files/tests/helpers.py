"""Helpers shared by the files module's tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kernel.testing import KernelHarness, pattern, pattern_bytes

MiB = 1024 * 1024


def storage_root(webos: KernelHarness) -> Path:
    return webos.data_dir / "storage"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


__all__ = ["MiB", "pattern", "pattern_bytes", "sha256", "storage_root"]
