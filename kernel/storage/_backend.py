"""What a storage backend must provide, kept small so a new kind is one short file.

Backends receive paths that already passed :func:`kernel.storage.validate_path`; they never see
URNs or other mounts. They raise the typed errors of :mod:`kernel.storage` and never leak SDK or
``OSError`` exceptions, so AFS callers handle one error family whatever the mount.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol, runtime_checkable

DEFAULT_CHUNK_SIZE = 1024 * 1024
DEFAULT_PART_SIZE = 5 * 1024 * 1024  # the S3 minimum: least memory per upload
"""1 MiB: large enough that per-chunk thread hops cost nothing measurable, small enough that a
handful of in-flight chunks stay far below any sane memory budget."""

PresignMethod = Literal["GET", "PUT"]


@dataclass(frozen=True, slots=True)
class ObjectStat:
    """Metadata of one object (or of a folder in a non-recursive listing).

    ``etag`` changes whenever the content may have changed; it is an opaque validator for HTTP
    caching, not a content hash (S3 multipart ETags are not MD5s either). ``modified`` is an aware
    UTC datetime, or ``None`` for folders, which object stores do not date.
    """

    path: str
    size: int
    modified: datetime | None
    content_type: str
    etag: str
    is_dir: bool = False
    mount: str = ""

    @property
    def urn(self) -> str:
        """The full URN; only meaningful on stats returned by AFS, which fills ``mount``."""
        return f"fs://{self.mount}/{self.path}" if self.path else f"fs://{self.mount}"


@runtime_checkable
class Backend(Protocol):
    """One mount's storage. Every method may be called concurrently from one event loop."""

    async def start(self) -> None:
        """Check the storage is usable (fail fast at boot, not at the first request)."""

    async def close(self) -> None:
        """Release connections and pools."""

    def read_stream(
        self,
        path: str,
        *,
        offset: int = 0,
        length: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> AsyncIterator[bytes]:
        """Yield the bytes ``[offset, offset+length)``; raise NotFound on first iteration."""
        ...

    async def write_stream(
        self, path: str, chunks: AsyncIterable[bytes], *, content_type: str | None = None
    ) -> ObjectStat:
        """Store the object atomically: readers see the old or the new object, never a mix."""
        ...

    async def stat(self, path: str) -> ObjectStat:
        """Metadata of the object at ``path``; NotFound if there is none."""
        ...

    async def exists(self, path: str) -> bool:
        """Whether an object (not a folder) exists at ``path``."""
        ...

    async def list(self, prefix: str, *, recursive: bool = False) -> list[ObjectStat]:
        """Objects below folder ``prefix`` ("" = root), sorted by path.

        Non-recursive listings also return direct sub-folders with ``is_dir=True``. A missing
        folder lists as empty: object stores cannot tell it apart from an empty one.
        """
        ...

    async def delete(self, path: str) -> None:
        """Remove the object; NotFound if there is none."""
        ...

    async def presign(
        self,
        path: str,
        *,
        expires: timedelta,
        method: PresignMethod = "GET",
        content_type: str | None = None,
    ) -> str:
        """A URL that lets a client without credentials GET or PUT this one object until expiry."""
        ...


def check_range(offset: int, length: int | None) -> None:
    """Refuse nonsensical ranges early, identically for every backend."""
    if offset < 0:
        raise ValueError(f"offset must be >= 0, got {offset}")
    if length is not None and length < 0:
        raise ValueError(f"length must be >= 0 or None, got {length}")


def check_expiry(expires: timedelta) -> None:
    """S3 caps presigned URLs at 7 days; the same cap everywhere keeps mounts interchangeable."""
    if not timedelta(seconds=1) <= expires <= timedelta(days=7):
        raise ValueError(f"expires must be between 1 second and 7 days, got {expires}")
