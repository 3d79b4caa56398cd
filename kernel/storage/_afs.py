"""The AFS facade: one async API over every mount, addressed by ``fs://`` URNs.

AFS owns the cross-cutting parts (URN parsing, mount lookup, copies between mounts, change
events) so that a backend only has to move bytes for one mount.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from ._backend import DEFAULT_CHUNK_SIZE, Backend, ObjectStat, PresignMethod
from ._errors import AccessDenied, UnknownMount
from ._presign import verify_presigned_claims
from ._urn import URN, parse_urn, validate_mount

log = logging.getLogger("kernel.storage")

OBJECT_CREATED = "storage.object.created"
"""Emitted after a write or copy lands: ``{urn, size, etag, content_type, principal}``."""
OBJECT_DELETED = "storage.object.deleted"
"""Emitted after a delete: ``{urn, principal}``."""
OBJECT_MOVED = "storage.object.moved"
"""Emitted after a move (instead of created + deleted): ``{from, to, size, etag, principal}``."""

EventSink = Callable[[str, dict[str, Any]], Awaitable[None]]
PrincipalProvider = Callable[[], str | None]


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


class AFS:
    """Async file system over named mounts. Build it, ``await start()``, use, ``await close()``."""

    def __init__(
        self,
        mounts: Mapping[str, Backend],
        *,
        emit: EventSink | None = None,
        principal_provider: PrincipalProvider | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        presign_secret: str | bytes | None = None,
    ) -> None:
        for name, backend in mounts.items():
            validate_mount(name)
            bound = getattr(backend, "mount", None)
            if bound is not None and bound != name:
                # Presigned tokens and error messages would name the wrong mount.
                raise ValueError(f"backend {backend!r} is bound to mount {bound!r}, not {name!r}")
        self._mounts = dict(mounts)
        self._emit = emit
        self._principal = principal_provider
        self.chunk_size = chunk_size
        self._presign_secret = presign_secret
        self._started: list[str] = []

    def verify_presigned(self, token: str) -> tuple[URN, PresignMethod, str | None]:
        """What a local presigned token grants (URN, method, signed content type), checked
        against the secret local mounts sign with; raises ``AccessDenied``."""
        if self._presign_secret is None:
            raise AccessDenied(
                "this process serves no local presigned URLs: WEBOS_STORAGE_PRESIGN_SECRET is unset"
            )
        return verify_presigned_claims(token, self._presign_secret)

    @property
    def mounts(self) -> Mapping[str, Backend]:
        """Read-only view of the configured mounts."""
        return MappingProxyType(self._mounts)

    async def start(self) -> None:
        """Start every backend; if one fails, close those already started and re-raise."""
        for name, backend in self._mounts.items():
            try:
                await backend.start()
            except BaseException:
                await self.close()
                raise
            self._started.append(name)

    async def close(self) -> None:
        """Close started backends in reverse order; errors are logged, not raised."""
        while self._started:
            name = self._started.pop()
            try:
                await self._mounts[name].close()
            except Exception:
                log.exception("closing storage mount %r failed", name)

    async def __aenter__(self) -> AFS:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- helpers ----------------------------------------------------------------------------

    def _locate(self, urn: str | URN, *, allow_root: bool = False) -> tuple[Backend, URN]:
        parsed = parse_urn(urn, allow_root=allow_root)
        try:
            return self._mounts[parsed.mount], parsed
        except KeyError:
            known = ", ".join(sorted(self._mounts)) or "none"
            raise UnknownMount(
                f"{parsed}: unknown mount {parsed.mount!r} (configured: {known})",
                urn=str(parsed),
                mount=parsed.mount,
            ) from None

    @staticmethod
    def _bind(stat: ObjectStat, mount: str) -> ObjectStat:
        return dataclasses.replace(stat, mount=mount)

    async def _notify(self, subject: str, payload: dict[str, Any]) -> None:
        if self._emit is None:
            return
        payload["principal"] = self._principal() if self._principal else None
        try:
            await self._emit(subject, payload)
        except Exception:
            # The change already happened: failing the call would invite a retry that
            # duplicates it. Subscribers must tolerate missed events (resync by listing).
            log.exception("emitting %s for %s failed", subject, payload.get("urn"))

    async def _created(self, stat: ObjectStat) -> None:
        await self._notify(
            OBJECT_CREATED,
            {
                "urn": stat.urn,
                "size": stat.size,
                "etag": stat.etag,
                "content_type": stat.content_type,
            },
        )

    # -- reading ----------------------------------------------------------------------------

    def open_read(
        self,
        urn: str | URN,
        *,
        offset: int = 0,
        length: int | None = None,
        chunk_size: int | None = None,
    ) -> AsyncIterator[bytes]:
        """Stream ``[offset, offset+length)`` of the object.

        Not ``async``: a bad URN or mount raises here, at the call site. NotFound is raised on
        the first iteration (checking before streaming would cost S3 a second request).
        """
        backend, target = self._locate(urn)
        return backend.read_stream(
            target.path, offset=offset, length=length, chunk_size=chunk_size or self.chunk_size
        )

    async def read(self, urn: str | URN) -> bytes:
        """The whole object in memory: for small objects only; stream the others."""
        return b"".join([chunk async for chunk in self.open_read(urn)])

    async def stat(self, urn: str | URN) -> ObjectStat:
        backend, target = self._locate(urn)
        return self._bind(await backend.stat(target.path), target.mount)

    async def exists(self, urn: str | URN) -> bool:
        backend, target = self._locate(urn)
        return await backend.exists(target.path)

    async def list(self, urn_prefix: str | URN, *, recursive: bool = False) -> list[ObjectStat]:
        """Objects (and, unless recursive, sub-folders) below a folder URN; "" = mount root.

        One trailing ``/`` is tolerated (``fs://m/docs/``). Missing folders list as empty.
        """
        if isinstance(urn_prefix, str) and urn_prefix.endswith("/"):
            head = urn_prefix[:-1]
            urn_prefix = head if "/" in head.removeprefix("fs://") else urn_prefix
        backend, target = self._locate(urn_prefix, allow_root=True)
        items = await backend.list(target.path, recursive=recursive)
        return [self._bind(item, target.mount) for item in items]

    # -- writing ----------------------------------------------------------------------------

    async def write_stream(
        self,
        urn: str | URN,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str | None = None,
    ) -> ObjectStat:
        """Store the chunks as one object, atomically; emits ``storage.object.created``."""
        backend, target = self._locate(urn)
        stat = self._bind(
            await backend.write_stream(target.path, chunks, content_type=content_type),
            target.mount,
        )
        await self._created(stat)
        return stat

    async def write(
        self, urn: str | URN, data: bytes, *, content_type: str | None = None
    ) -> ObjectStat:
        return await self.write_stream(urn, _once(bytes(data)), content_type=content_type)

    async def delete(self, urn: str | URN) -> None:
        """Remove the object (NotFound if absent); emits ``storage.object.deleted``."""
        backend, target = self._locate(urn)
        await backend.delete(target.path)
        await self._notify(OBJECT_DELETED, {"urn": str(target)})

    async def _copy(self, src: URN, dst: URN) -> ObjectStat:
        src_backend, dst_backend = self._mounts[src.mount], self._mounts[dst.mount]
        source = await src_backend.stat(src.path)  # NotFound before the destination is touched
        stream = src_backend.read_stream(src.path, chunk_size=self.chunk_size)
        try:
            written = await dst_backend.write_stream(
                dst.path, stream, content_type=source.content_type
            )
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        return self._bind(written, dst.mount)

    async def copy(self, src: str | URN, dst: str | URN) -> ObjectStat:
        """Stream ``src`` into ``dst`` (any two mounts); emits created for ``dst``."""
        _, source = self._locate(src)
        _, target = self._locate(dst)
        if source == target:
            return await self.stat(source)
        stat = await self._copy(source, target)
        await self._created(stat)
        return stat

    async def move(self, src: str | URN, dst: str | URN) -> ObjectStat:
        """Copy then delete the source; emits one ``storage.object.moved``.

        Not atomic across mounts: if the delete fails, both copies exist (never neither).
        """
        _, source = self._locate(src)
        _, target = self._locate(dst)
        if source == target:
            return await self.stat(source)
        stat = await self._copy(source, target)
        await self._mounts[source.mount].delete(source.path)
        await self._notify(
            OBJECT_MOVED,
            {"from": str(source), "to": str(target), "size": stat.size, "etag": stat.etag},
        )
        return stat

    async def presign(
        self,
        urn: str | URN,
        *,
        expires: timedelta = timedelta(minutes=15),
        method: PresignMethod = "GET",
        content_type: str | None = None,
    ) -> str:
        """A URL granting ``method`` on this one object until it expires (max 7 days)."""
        backend, target = self._locate(urn)
        return await backend.presign(
            target.path, expires=expires, method=method, content_type=content_type
        )
