"""The Storage view: the mounts of AFS, their folders and objects; upload and download.

Downloads link to the files module (``GET /api/files/<mount>/<path>``) when it runs here, else
to ``/console/storage/download``, which streams from AFS. Uploads are multipart posts to
``/console/storage/upload``, streamed into AFS chunk by chunk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Stream

from kernel.auth import CurrentPrincipal
from kernel.console._contrib import FILES_READ
from kernel.console._pages import Catalogue
from kernel.console._shell import allowed, html, page, render
from kernel.errors import WebOSError
from kernel.modules import ModuleSet
from kernel.storage import NotFound, UnknownMount, afs

FILES_WRITE = "files.write"
READ = {"console_permission": FILES_READ}
WRITE = {"console_permission": FILES_WRITE}
CHUNK = 1024 * 1024


def _urn(mount: str, path: str) -> str:
    return f"fs://{mount}/{path}" if path else f"fs://{mount}/"


def _problem(error: BaseException) -> str:
    return str(error) if isinstance(error, WebOSError) and str(error) else type(error).__name__


def download_url(modules: ModuleSet, mount: str, path: str) -> str:
    if "files" in modules.running:
        return f"/api/files/{quote(mount)}/{quote(path)}"
    return f"/console/storage/download?mount={quote(mount)}&path={quote(path)}"


def crumbs(path: str) -> list[tuple[str, str]]:
    """``(name, folder path)`` for every folder of ``path``, outermost first."""
    parts = [part for part in path.split("/") if part]
    return [(part, "/".join(parts[: i + 1])) for i, part in enumerate(parts)]


async def _listing(
    module_set: ModuleSet,
    principal: Any,
    mount: str,
    path: str,
    notice: str | None = None,
    failed: str | None = None,
) -> Response[str]:
    """The mounts, and the folder ``path`` of ``mount`` (none chosen: just the mounts)."""
    path, status, error, items = path.strip("/"), 200, None, []
    try:
        mounts = sorted(afs.mounts)
        if mount:
            items = await afs.list(_urn(mount, path))
            if path and not items:
                status, error = 404, f"There is no folder {path} on {mount}."
    except UnknownMount:
        mounts, status, error = sorted(afs.mounts), 404, f"There is no mount {mount}."
    except Exception as problem:  # shown in the view: the console stays usable
        mounts, status, error = [], 400, f"Cannot list {_urn(mount, path)}: {_problem(problem)}"
    rows = [
        {
            "item": item,
            "name": item.path.rpartition("/")[2],
            "href": download_url(module_set, mount, item.path),
        }
        for item in items
    ]
    context = {"mount": mount, "path": path, "crumbs": crumbs(path), "mounts": mounts}
    body = render(
        "storage_list.html",
        rows=rows,
        error=error,
        notice=notice,
        failed=failed,
        can_upload=allowed(principal, FILES_WRITE),
        **context,
    )
    return html(body, status_code=status)


@get("/storage", include_in_schema=False, opt=READ)
async def storage_page(
    request: Request[Any, Any, Any],
    catalog: Catalogue,
    principal: CurrentPrincipal,
    mount: FromQuery[str] = "",
    path: FromQuery[str] = "",
) -> Response[str]:
    return page(
        request,
        catalog,
        principal,
        "storage.html",
        title="Storage",
        active="storage",
        mount=mount,
        path=path,
    )


@get("/storage/list", include_in_schema=False, opt=READ)
async def storage_list(
    module_set: NamedDependency[ModuleSet],
    principal: CurrentPrincipal,
    mount: FromQuery[str] = "",
    path: FromQuery[str] = "",
) -> Response[str]:
    return await _listing(module_set, principal, mount, path)


@get("/storage/download", include_in_schema=False, opt=READ)
async def storage_download(mount: FromQuery[str], path: FromQuery[str]) -> Response[Any]:
    """One object streamed from AFS (used when the files module does not run here)."""
    try:
        stat = await afs.stat(_urn(mount, path))
        chunks = afs.open_read(stat.urn)
    except (NotFound, UnknownMount):
        return html(render("error.html", detail=f"No object {_urn(mount, path)}."), 404)
    except Exception as problem:
        return html(render("error.html", detail=_problem(problem)), status_code=400)
    name = quote(path.rpartition("/")[2])
    headers = {
        "content-length": str(stat.size),
        "content-disposition": f"attachment; filename*=UTF-8''{name}",
        "x-content-type-options": "nosniff",
        "content-security-policy": "sandbox",
    }
    return Stream(chunks, media_type=stat.content_type, headers=headers)


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


@post("/storage/upload", include_in_schema=False, opt=WRITE, status_code=200)
async def storage_upload(
    request: Request[Any, Any, Any],
    module_set: NamedDependency[ModuleSet],
    principal: CurrentPrincipal,
    mount: FromQuery[str],
    path: FromQuery[str] = "",
) -> Response[str]:
    """Store the form's ``file`` in the folder shown, then show the folder again."""
    path = path.strip("/")
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _listing(module_set, principal, mount, path, failed="Choose a file to upload.")
    name = upload.filename.replace("\\", "/").rpartition("/")[2]
    target = _urn(mount, f"{path}/{name}" if path else name)
    notice = failed = None
    try:
        stat = await afs.write_stream(target, _chunks(upload), content_type=upload.content_type)
        notice = f"Uploaded {name} ({stat.size} bytes)."
    except Exception as problem:  # shown above the folder, like a listing error
        failed = f"Cannot upload {name}: {_problem(problem)}"
    finally:
        await upload.close()
    return await _listing(module_set, principal, mount, path, notice, failed)


storage_handlers = [storage_page, storage_list, storage_download, storage_upload]
