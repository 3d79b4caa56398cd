"""A mount backed by an S3-compatible bucket, through the ``minio`` SDK.

The SDK is blocking, so every call runs in a worker thread. Uploads stream: the SDK pulls parts
from a file-like bridge that fetches chunks from the caller's async iterator on the event loop,
so at most ``(parallel_uploads + 2) * part_size`` bytes are in memory whatever the object size.
The urllib3 pool gets short timeouts and few retries: the SDK defaults (5 minutes, 5 retries)
turn a typo in an endpoint into a boot that hangs instead of one that fails with a clear error.
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import timedelta
from typing import Any, BinaryIO, TypeVar, cast
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from ._backend import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_PART_SIZE,
    ObjectStat,
    PresignMethod,
    check_expiry,
    check_range,
)
from ._errors import AccessDenied, InvalidURN, NotFound, StorageError
from ._s3bridge import ChunkReader
from ._urn import validate_path

T = TypeVar("T")
DEFAULT_REGION = "us-east-1"
_NOT_FOUND = {"NoSuchKey", "NoSuchObject", "ResourceNotFound"}
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"}


def split_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    """Accept ``host:port`` (the SDK's form) or a URL; a URL's scheme wins over ``secure``."""
    if "://" in endpoint:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError(f"S3 endpoint must be host:port or http(s)://host:port: {endpoint!r}")
        return parts.netloc, parts.scheme == "https"
    return endpoint, secure


class S3Backend:
    """Objects are keys ``<prefix><path>`` in one bucket; folders are key prefixes."""

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        *,
        region: str | None = None,
        secure: bool = False,
        prefix: str = "",
        mount: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        parallel_uploads: int = 2,
        connect_timeout: float = 3.0,
        read_timeout: float = 60.0,
        retries: int = 1,
        create_bucket: bool = True,
    ) -> None:
        host, secure = split_endpoint(endpoint, secure)
        self.endpoint = f"{'https' if secure else 'http'}://{host}"
        self.bucket = bucket
        self.mount = mount
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._part_size = max(part_size, 5 * 1024 * 1024)
        self._parallel = max(1, parallel_uploads)
        self._create_bucket = create_bucket
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            retries=urllib3.Retry(
                total=retries, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
            ),
            maxsize=max(10, self._parallel * 2),
        )
        self._client = Minio(
            host,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region or DEFAULT_REGION,
            http_client=self._http,
        )

    def __repr__(self) -> str:
        return (
            f"S3Backend(endpoint={self.endpoint!r}, bucket={self.bucket!r}, mount={self.mount!r})"
        )

    # -- plumbing ---------------------------------------------------------------------------

    def _where(self, path: str) -> str:
        return f"fs://{self.mount}/{path}" if self.mount else repr(path)

    def _key(self, path: str, *, allow_root: bool = False) -> str:
        validate_path(path, allow_root=allow_root, urn=self._where(path))
        return self._prefix + path

    def _error(self, exc: BaseException, path: str | None) -> StorageError:
        where = (
            self._where(path)
            if path is not None
            else f"mount {self.mount!r} (bucket {self.bucket!r})"
        )
        urn = self._where(path) if path is not None else None
        if isinstance(exc, S3Error):
            if exc.code in _NOT_FOUND:
                return NotFound(f"{where} not found", urn=urn, mount=self.mount)
            if exc.code in _DENIED:
                return AccessDenied(
                    f"{where}: S3 at {self.endpoint} denied access ({exc.code}): check the "
                    "credentials and the bucket policy",
                    urn=urn,
                    mount=self.mount,
                )
            if exc.code == "NoSuchBucket":
                return StorageError(
                    f"{where}: bucket {self.bucket!r} does not exist", urn=urn, mount=self.mount
                )
            return StorageError(
                f"{where}: S3 error {exc.code}: {exc.message}", urn=urn, mount=self.mount
            )
        if isinstance(exc, MinioException):
            return StorageError(
                f"{where}: S3 at {self.endpoint} failed: {exc}", urn=urn, mount=self.mount
            )
        return StorageError(
            f"{where}: cannot reach S3 at {self.endpoint}: {exc}", urn=urn, mount=self.mount
        )

    async def _call(self, path: str | None, func: Callable[..., T], *args: Any, **kw: Any) -> T:
        try:
            return await asyncio.to_thread(func, *args, **kw)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error(exc, path) from exc

    def _object_stat(self, path: str, obj: Any, *, listed: bool = False) -> ObjectStat:
        content_type = None if listed else obj.content_type
        if not content_type:  # listings do not carry it: guess from the name
            content_type = mimetypes.guess_type(path, strict=False)[0] or "application/octet-stream"
        return ObjectStat(path, obj.size or 0, obj.last_modified, content_type, obj.etag or "")

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Fail fast on a wrong endpoint or credentials; create the bucket if allowed."""
        if await self._call(None, self._client.bucket_exists, self.bucket):
            return
        if not self._create_bucket:
            raise StorageError(
                f"mount {self.mount!r}: bucket {self.bucket!r} does not exist at {self.endpoint}",
                mount=self.mount,
            )
        await self._call(None, self._client.make_bucket, self.bucket)

    async def close(self) -> None:
        self._http.clear()

    # -- operations -------------------------------------------------------------------------

    async def read_stream(
        self,
        path: str,
        *,
        offset: int = 0,
        length: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> AsyncIterator[bytes]:
        check_range(offset, length)
        key = self._key(path)
        if length == 0:  # the SDK reads length=0 as "to the end"
            await self.stat(path)
            return
        try:
            response = await self._call(
                path, self._client.get_object, self.bucket, key, offset=offset, length=length or 0
            )
        except StorageError as exc:
            if isinstance(exc.__cause__, S3Error) and exc.__cause__.code == "InvalidRange":
                return  # offset at or past the end: nothing to read, like a local file
            raise
        try:
            stream = response.stream(chunk_size)
            while (data := await self._call(path, next, stream, None)) is not None:
                yield data
        finally:
            response.close()
            response.release_conn()

    async def write_stream(
        self, path: str, chunks: AsyncIterable[bytes], *, content_type: str | None = None
    ) -> ObjectStat:
        key = self._key(path)
        reader = ChunkReader(chunks, asyncio.get_running_loop())
        content_type = content_type or (
            mimetypes.guess_type(path, strict=False)[0] or "application/octet-stream"
        )
        upload = asyncio.ensure_future(
            asyncio.to_thread(
                self._client.put_object,
                self.bucket,
                key,
                cast(BinaryIO, reader),  # read(n) is all the SDK uses of it
                length=-1,
                part_size=self._part_size,
                content_type=content_type,
                num_parallel_uploads=self._parallel,
            )
        )
        try:
            await asyncio.shield(upload)
        except asyncio.CancelledError:
            reader.cancelled = True  # the SDK aborts the multipart upload on the read error
            await asyncio.wait({upload})
            raise
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            if reader.source_error is not None:
                raise reader.source_error from None
            raise self._error(exc, path) from exc
        except Exception:
            if reader.source_error is not None:
                raise reader.source_error from None
            raise
        return await self.stat(path)

    async def stat(self, path: str) -> ObjectStat:
        obj = await self._call(path, self._client.stat_object, self.bucket, self._key(path))
        return self._object_stat(path, obj)

    async def exists(self, path: str) -> bool:
        try:
            await self.stat(path)
        except NotFound:
            return False
        return True

    async def list(self, prefix: str, *, recursive: bool = False) -> list[ObjectStat]:
        key = self._key(prefix, allow_root=True)
        key = f"{key}/" if prefix else key

        def collect() -> list[Any]:
            return list(self._client.list_objects(self.bucket, prefix=key, recursive=recursive))

        out: list[ObjectStat] = []
        for obj in await self._call(prefix, collect):
            name = obj.object_name[len(self._prefix) :].rstrip("/")
            try:
                validate_path(name)
            except InvalidURN:
                continue  # written by another tool with a name AFS cannot address
            if obj.is_dir:
                out.append(ObjectStat(name, 0, None, "", "", is_dir=True))
            else:
                out.append(self._object_stat(name, obj, listed=True))
        return sorted(out, key=lambda item: item.path)

    async def delete(self, path: str) -> None:
        await self.stat(path)  # S3 deletes are idempotent; AFS promises NotFound
        await self._call(path, self._client.remove_object, self.bucket, self._key(path))

    async def presign(
        self,
        path: str,
        *,
        expires: timedelta,
        method: PresignMethod = "GET",
        content_type: str | None = None,
    ) -> str:
        """S3 does not sign Content-Type here: PUT clients must send one themselves."""
        check_expiry(expires)
        key = self._key(path)
        if method == "GET":
            return await self._call(
                path, self._client.presigned_get_object, self.bucket, key, expires=expires
            )
        if method == "PUT":
            return await self._call(
                path, self._client.presigned_put_object, self.bucket, key, expires=expires
            )
        raise ValueError(f"method must be GET or PUT, got {method!r}")
