"""HTTP plumbing of the files module: targets from raw paths, ranges, validators, errors.

Kept apart from the route handlers so each piece is a small pure function with its own tests.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote

from litestar import Request
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotFoundException,
    PermissionDeniedException,
)

from kernel.storage import (
    URN,
    AccessDenied,
    AlreadyExists,
    InvalidURN,
    NotFound,
    ObjectStat,
    UnknownMount,
    parse_urn,
)

API_PREFIX = "/api/files/"
UPLOAD_CHUNK = 1024 * 1024
"""Request bodies arrive in ~64 KiB pieces; handing AFS 1 MiB chunks saves thread hops."""


# -- errors ---------------------------------------------------------------------------------


@contextmanager
def storage_errors() -> Iterator[None]:
    """Turn AFS errors into Litestar HTTP exceptions (rendered as RFC 9457 problems)."""
    try:
        yield
    except InvalidURN as exc:
        raise ClientException(str(exc)) from None
    except (UnknownMount, NotFound) as exc:
        raise NotFoundException(str(exc)) from None
    except AccessDenied as exc:
        raise PermissionDeniedException(str(exc)) from None
    except AlreadyExists as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None


# -- targets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a request path under ``/api/files/<mount>/<path>`` addresses."""

    urn: URN
    folder: bool  # mount root, or a path ending in "/"


def _decode(text: str) -> str:
    try:
        return unquote(text, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ClientException("the request path is not valid percent-encoded UTF-8") from None


def request_target(request: Request[Any, Any, Any]) -> Target:
    """The URN a request path names, read from the raw path and decoded exactly once.

    Litestar's own path parameters are decoded *and* normalised (``a//b`` becomes ``a/b``,
    ``%2F`` a separator, trailing slashes vanish), which would silently turn a refused path into
    another object. So the handlers use the raw bytes the client sent: percent escapes are
    decoded once, and the result goes through :func:`kernel.storage.parse_urn`, which refuses
    ``..``, empty segments, backslashes, NUL and control characters, and any ``%XX`` left over
    (double encoding).
    """
    raw = request.scope.get("raw_path")
    if raw:
        text = raw.decode("latin-1")
        root_path = request.scope.get("root_path") or ""
        if root_path and text.startswith(root_path + API_PREFIX):
            text = text[len(root_path) :]
        decode = _decode
    else:  # servers without raw_path: the already decoded path, never decoded twice
        text = request.scope["path"]

        def decode(value: str) -> str:
            return value

    if not text.startswith(API_PREFIX):
        raise ClientException("the request path is not under /api/files/")
    mount_raw, _, path_raw = text[len(API_PREFIX) :].partition("/")
    mount, path = decode(mount_raw), decode(path_raw)
    folder = path == "" or path.endswith("/")
    if folder and path:
        path = path[:-1]  # one trailing slash marks a folder; "a//" still fails in parse_urn
    with storage_errors():
        return Target(parse_urn(URN(mount, path), allow_root=folder), folder)


def object_url(urn: URN) -> str:
    """The gateway path that serves ``urn`` (for ``Location`` headers)."""
    return f"{API_PREFIX}{urn.mount}/{quote(urn.path, safe='/')}"


# -- representations ------------------------------------------------------------------------


def stat_json(stat: ObjectStat) -> dict[str, Any]:
    return {
        "urn": stat.urn,
        "mount": stat.mount,
        "path": stat.path,
        "size": stat.size,
        "etag": stat.etag or None,
        "content_type": stat.content_type,
        "modified": stat.modified.isoformat() if stat.modified else None,
        "is_dir": stat.is_dir,
    }


def quoted_etag(etag: str) -> str | None:
    """An HTTP entity tag for an AFS etag (S3's may already carry quotes)."""
    bare = etag.strip('"')
    return f'"{bare}"' if bare else None


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def validators(stat: ObjectStat) -> dict[str, str]:
    """``ETag`` and ``Last-Modified`` headers of a stat (whichever it has)."""
    headers: dict[str, str] = {}
    if etag := quoted_etag(stat.etag):
        headers["etag"] = etag
    if stat.modified is not None:
        headers["last-modified"] = http_date(stat.modified)
    return headers


# -- conditional requests -------------------------------------------------------------------


def _etag_list(value: str) -> list[str]:
    return [tag.strip() for tag in value.split(",") if tag.strip()]


def _weak_equal(a: str, b: str) -> bool:
    return a.removeprefix("W/") == b.removeprefix("W/")


def _parse_http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def not_modified(headers: Any, stat: ObjectStat) -> bool:
    """RFC 9110 13.1.2/13.1.3 for GET and HEAD: whether to answer 304."""
    etag = quoted_etag(stat.etag)
    if (if_none_match := headers.get("if-none-match")) is not None:
        tags = _etag_list(if_none_match)
        if "*" in tags:
            return True
        return etag is not None and any(_weak_equal(tag, etag) for tag in tags)
    if (since := headers.get("if-modified-since")) and stat.modified is not None:
        moment = _parse_http_date(since)
        return moment is not None and stat.modified.replace(microsecond=0) <= moment
    return False


def range_applies(headers: Any, stat: ObjectStat) -> bool:
    """``If-Range``: serve the range only if the validator still matches (strong compare)."""
    if_range = headers.get("if-range")
    if if_range is None:
        return True
    if_range = if_range.strip()
    if if_range.startswith(('"', "W/")):
        etag = quoted_etag(stat.etag)
        return etag is not None and not if_range.startswith("W/") and if_range == etag
    moment = _parse_http_date(if_range)
    return (
        moment is not None
        and stat.modified is not None
        and stat.modified.replace(microsecond=0) == moment
    )


# -- ranges ---------------------------------------------------------------------------------

_RANGE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class Unsatisfiable(Exception):
    """The Range header is valid but selects nothing of the object: answer 416."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range ``(first, last)`` (inclusive) a ``Range`` header selects.

    ``None`` means "send the whole object": no header, another unit, a syntax error or several
    ranges (RFC 9110 lets a server ignore Range; multipart/byteranges is not supported).
    Raises :class:`Unsatisfiable` when the range starts at or past the end.
    """
    if header is None:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _RANGE.match(spec)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None  # "bytes=-" is not a range
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - suffix), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # syntactically invalid: ignored
    if first >= size:
        raise Unsatisfiable
    return first, min(int(last_text), size - 1) if last_text else size - 1


# -- bodies ---------------------------------------------------------------------------------


async def rechunk(chunks: AsyncIterable[bytes], size: int = UPLOAD_CHUNK) -> AsyncIterator[bytes]:
    """Coalesce small pieces into ``size``-byte chunks (holds at most one chunk)."""
    buffer = bytearray()
    async for chunk in chunks:
        if not chunk:
            continue
        buffer += chunk
        if len(buffer) >= size:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


async def primed(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Pull the first chunk now, so NotFound and friends become HTTP errors, not cut bodies."""
    with storage_errors():
        first = await anext(chunks, None)

    async def body() -> AsyncIterator[bytes]:
        try:
            if first:
                yield first
            async for chunk in chunks:
                yield chunk
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()

    return body()
