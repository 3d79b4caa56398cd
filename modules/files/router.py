"""``/api/files``: AFS over HTTP. Streams both ways; never holds an object in memory.

Objects live at ``/api/files/<mount>/<path>`` (``fs://<mount>/<path>``); a path ending in ``/``
(or the bare mount) is a folder. The fixed names ``list``, ``presign``, ``presigned``, ``move``
and ``copy`` are routes of their own; see the "Files API" section of ``docs/storage.md``.

Permissions arrive with kernel auth: every handler takes its guards from one of the lists below,
so protecting the module is one assignment per list (``READ_GUARDS = [requires("files.read")]``).
The presigned routes carry no guards on purpose: the signed token is their authorisation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from litestar import Request, Response, Router, delete, get, head, post, put
from litestar.exceptions import ClientException, HTTPException, PermissionDeniedException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream
from litestar.types import Guard
from pydantic import BaseModel, Field

from kernel import afs
from kernel.auth import PUBLIC, require_permission, requires
from kernel.storage import (
    URN,
    AccessDenied,
    ObjectStat,
    is_s3,
    parse_urn,
)

from ._http import (
    Target,
    Unsatisfiable,
    not_modified,
    object_url,
    parse_range,
    primed,
    range_applies,
    rechunk,
    request_target,
    stat_json,
    storage_errors,
    validators,
)
from ._multipart import store_file_part

READ_GUARDS: list[Guard] = [requires("files.read")]
WRITE_GUARDS: list[Guard] = [requires("files.write")]

OBJECT = "/{mount:str}/{path:path}"
OBJECT_PATHS = ["/{mount:str}", OBJECT]  # the bare mount is its root folder
Stat = dict[str, Any]


# -- shared pieces --------------------------------------------------------------------------


def _object(target: Target) -> URN:
    if target.folder:
        raise ClientException(f"{target.urn} names a folder; objects need a path without '/' last")
    return target.urn


def _stat_response(stat: ObjectStat, *, status_code: int = 201) -> Response[Stat]:
    headers = validators(stat)
    headers["location"] = object_url(parse_urn(stat.urn))
    return Response(stat_json(stat), status_code=status_code, headers=headers)


async def _listing(urn: URN | str, recursive: bool) -> list[Stat]:
    with storage_errors():
        items = await afs.list(urn, recursive=recursive)
    return [stat_json(item) for item in items]


async def _serve(request: Request[Any, Any, Any], urn: URN, *, body: bool) -> Response[Any]:
    """GET/HEAD of one object with validators, conditional requests and a single byte range."""
    with storage_errors():
        stat = await afs.stat(urn)
    headers = validators(stat)
    headers["accept-ranges"] = "bytes"
    # Uploaded bytes are served from the gateway's origin: never let a browser run them.
    headers["x-content-type-options"] = "nosniff"
    headers["content-security-policy"] = "sandbox"
    if not_modified(request.headers, stat):
        return Response(None, status_code=304, headers=headers)
    try:
        selected = parse_range(request.headers.get("range"), stat.size)
    except Unsatisfiable:
        raise HTTPException(
            status_code=416,
            detail=f"{urn} has {stat.size} bytes; the range selects none of them",
            headers={"content-range": f"bytes */{stat.size}", "accept-ranges": "bytes"},
        ) from None
    status, offset, length = 200, 0, stat.size
    if selected is not None and range_applies(request.headers, stat):
        first, last = selected
        status, offset, length = 206, first, last - first + 1
        headers["content-range"] = f"bytes {first}-{last}/{stat.size}"
    headers["content-type"] = stat.content_type
    headers["content-length"] = str(length)
    if not body:
        return Response(None, status_code=status, headers=headers)
    chunks: AsyncIterator[bytes]
    if length == 0:
        chunks = _nothing()
    else:
        with storage_errors():
            source = afs.open_read(urn, offset=offset, length=length)
        chunks = await primed(source)
    return Stream(chunks, status_code=status, headers=headers)


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield  # pragma: no cover - makes this an async generator


async def _write(urn: URN, request: Request[Any, Any, Any], content_type: str | None) -> ObjectStat:
    with storage_errors():
        return await afs.write_stream(urn, rechunk(request.stream()), content_type=content_type)


# -- reading --------------------------------------------------------------------------------


@get(OBJECT_PATHS, guards=READ_GUARDS)
async def download(
    request: Request[Any, Any, Any],
    recursive: FromQuery[bool] = False,
    mount: FromPath[str] = "",
    path: FromPath[str] = "",
) -> Response[Any]:
    """Download an object (Range, ETag, If-None-Match); a folder path lists the folder."""
    target = request_target(request)
    if target.folder:
        return Response(await _listing(target.urn, recursive))
    return await _serve(request, target.urn, body=True)


@head(OBJECT, guards=READ_GUARDS)
async def download_head(
    request: Request[Any, Any, Any], mount: FromPath[str], path: FromPath[str]
) -> Response[None]:
    """The headers a GET would send."""
    return await _serve(request, _object(request_target(request)), body=False)


@get("/list", guards=READ_GUARDS)
async def list_objects(
    prefix: Annotated[str, QueryParameter(description="folder URN, e.g. fs://local/docs")],
    recursive: FromQuery[bool] = False,
) -> list[Stat]:
    """Objects (and, unless recursive, sub-folders) below a folder URN, sorted by path."""
    return await _listing(prefix, recursive)  # AFS parses it (one trailing "/" tolerated)


# -- writing --------------------------------------------------------------------------------


@put(OBJECT, guards=WRITE_GUARDS, request_max_body_size=None, status_code=201)
async def upload(
    request: Request[Any, Any, Any], mount: FromPath[str], path: FromPath[str]
) -> Response[Stat]:
    """Store the raw request body (streamed) with the request's Content-Type."""
    urn = _object(request_target(request))
    stat = await _write(urn, request, request.headers.get("content-type") or None)
    return _stat_response(stat)


@post(OBJECT_PATHS, guards=WRITE_GUARDS, request_max_body_size=None, status_code=201)
async def upload_form(
    request: Request[Any, Any, Any], mount: FromPath[str] = "", path: FromPath[str] = ""
) -> Response[Stat]:
    """Store the ``file`` field of a multipart/form-data body in this folder, under its name."""
    target = request_target(request)
    if not target.folder:
        raise ClientException("POST a form to a folder: end the path with '/'")

    async def store(filename: str, content_type: str | None, chunks: AsyncIterator[bytes]) -> Any:
        if not filename or "/" in filename or "\\" in filename:
            raise ClientException(f"invalid file name {filename!r}: give a bare name")
        folder = target.urn.path
        with storage_errors():
            urn = parse_urn(URN(target.urn.mount, f"{folder}/{filename}" if folder else filename))
            return await afs.write_stream(urn, chunks, content_type=content_type)

    return _stat_response(await store_file_part(request, store))


@delete(OBJECT, guards=WRITE_GUARDS, status_code=204)
async def remove(
    request: Request[Any, Any, Any], mount: FromPath[str], path: FromPath[str]
) -> None:
    """Delete an object: 204, or 404 if there is none."""
    urn = _object(request_target(request))
    with storage_errors():
        await afs.delete(urn)


class Transfer(BaseModel):
    from_: str = Field(alias="from", description="source URN")
    to: str = Field(description="destination URN")


@post("/move", guards=WRITE_GUARDS, status_code=200)
async def move(data: JSONBody[Transfer]) -> Stat:
    """Move an object (any two mounts; streamed); emits ``storage.object.moved``."""
    with storage_errors():
        return stat_json(await afs.move(data.from_, data.to))


@post("/copy", guards=WRITE_GUARDS, status_code=201)
async def copy(data: JSONBody[Transfer]) -> Stat:
    """Copy an object (any two mounts; streamed); emits ``storage.object.created``."""
    with storage_errors():
        return stat_json(await afs.copy(data.from_, data.to))


# -- presigned URLs -------------------------------------------------------------------------


class PresignRequest(BaseModel):
    urn: str
    method: Literal["GET", "PUT"] = "GET"
    expires_seconds: int = Field(900, ge=1, le=7 * 24 * 3600)
    content_type: str | None = Field(None, max_length=255)


class PresignAnswer(BaseModel):
    url: str
    method: Literal["GET", "PUT"]
    expires: datetime
    headers: dict[str, str]


# A GET presign needs files.read (the guard) and a PUT files.write (checked below).
@post("/presign", guards=READ_GUARDS, status_code=200)
async def presign(data: JSONBody[PresignRequest], request: Request[Any, Any, Any]) -> PresignAnswer:
    """A URL that lets a client without credentials GET or PUT one object until it expires."""
    if data.method == "PUT":
        require_permission("files.write")
    expires = timedelta(seconds=data.expires_seconds)
    with storage_errors():
        urn = parse_urn(data.urn)
        url = await afs.presign(
            urn, expires=expires, method=data.method, content_type=data.content_type
        )
    if url.startswith("/"):  # local mounts without a base_url: a path on this gateway
        url = str(request.base_url).rstrip("/") + url
    headers: dict[str, str] = {}
    if data.method == "PUT" and data.content_type:
        headers["content-type"] = data.content_type
    if data.method == "PUT" and is_s3(afs.mounts.get(urn.mount)):
        # S3 does not sign the type: without one, some stores save an empty object.
        headers.setdefault("content-type", "application/octet-stream")
    return PresignAnswer(
        url=url, method=data.method, expires=datetime.now(UTC) + expires, headers=headers
    )


def _token_claims(token: str, method: str) -> tuple[URN, str | None]:
    try:
        urn, granted, content_type = afs.verify_presigned(token)
    except AccessDenied as exc:
        raise PermissionDeniedException(str(exc)) from None
    if granted != method:
        raise PermissionDeniedException(f"this presigned URL grants {granted}, not {method}")
    return urn, content_type


@get("/presigned", opt=PUBLIC)
async def presigned_get(request: Request[Any, Any, Any], token: FromQuery[str]) -> Response[Any]:
    """Serve a local presigned GET (Range and validators as for a normal download)."""
    urn, _ = _token_claims(token, "GET")
    return await _serve(request, urn, body=True)


@head("/presigned", opt=PUBLIC)
async def presigned_head(request: Request[Any, Any, Any], token: FromQuery[str]) -> Response[None]:
    urn, _ = _token_claims(token, "GET")
    return await _serve(request, urn, body=False)


@put("/presigned", request_max_body_size=None, status_code=201, opt=PUBLIC)
async def presigned_put(request: Request[Any, Any, Any], token: FromQuery[str]) -> Response[Stat]:
    """Store the body of a local presigned PUT; a signed content type must be matched."""
    urn, signed_type = _token_claims(token, "PUT")
    sent = request.headers.get("content-type") or None
    if signed_type and sent and sent != signed_type:
        raise PermissionDeniedException(
            f"this presigned URL is for Content-Type {signed_type!r}, not {sent!r}"
        )
    return _stat_response(await _write(urn, request, signed_type or sent))


router = Router(
    path="/",
    route_handlers=[
        # read: READ_GUARDS
        download,
        download_head,
        list_objects,
        presign,
        # write: WRITE_GUARDS
        upload,
        upload_form,
        remove,
        move,
        copy,
        # token-authorised: no guards
        presigned_get,
        presigned_head,
        presigned_put,
    ],
)
