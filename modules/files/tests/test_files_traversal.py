"""Paths that try to leave the storage root, sent raw (no client-side normalisation): all 4xx."""

from __future__ import annotations

import os
from pathlib import Path

import httpcore
import httpx
import pytest

from kernel.testing import KernelHarness, RunningKernel

from .helpers import storage_root

SECRET_TEXT = b"top secret, outside the storage root"

# Raw request targets, exactly as they go on the wire.
RAW_PATHS = [
    b"/api/files/local/../secret.txt",
    b"/api/files/local/a/../../secret.txt",
    b"/api/files/local/./secret.txt",
    b"/api/files/local/%2e%2e/secret.txt",
    b"/api/files/local/%2E%2E%2Fsecret.txt",
    b"/api/files/local/..%2fsecret.txt",
    b"/api/files/local/a%2f..%2f..%2fsecret.txt",
    b"/api/files/local/..%5csecret.txt",
    b"/api/files/local/a\\..\\..\\secret.txt",
    b"/api/files/local//secret.txt",
    b"/api/files/local/%2Fetc%2Fpasswd",
    b"/api/files/local/%252e%252e/secret.txt",
    b"/api/files/local/a%00b.txt",
    b"/api/files/local/a%0Ab.txt",
    b"/api/files/local/%E2%80%AEtxt.exe",
    b"/api/files/local/%EF%BC%8E%EF%BC%8E/secret.txt",
    b"/api/files/local/%C0%AE%C0%AE/secret.txt",
    b"/api/files/local/a/%2e/b.txt",
    b"/api/files/..%2f..%2fsecret.txt",
    b"/api/files/%2e%2e/secret.txt",
    b"/api/files/local%2f..%2f..%2fsecret.txt",
]

FILENAMES = ["../secret.txt", "..", ".", "a/b.txt", "a\\..\\b.txt", "/etc/x", "%2e%2e", "", "a\x00"]


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file and link below ``folder`` (links not followed) with content or target."""
    found: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = b"-> " + os.readlink(path).encode()
        elif path.is_file():
            found[key] = path.read_bytes()
    return found


async def _raw(
    app: RunningKernel, method: str, raw_path: bytes, **kwargs: object
) -> httpx.Response:
    """Send ``raw_path`` byte for byte: httpx normalises even ``raw_path`` (``a/../b`` -> ``b``),
    so the body and headers come from httpx and the request goes out through httpcore."""
    headers = {**app.client.headers, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    built = httpx.Request(method, app.url, headers=headers, **kwargs)  # type: ignore[arg-type]
    body = built.read()
    url = httpx.URL(app.url)
    async with httpcore.AsyncConnectionPool() as pool:
        answer = await pool.request(
            method,
            httpcore.URL(scheme=b"http", host=url.host.encode(), port=url.port, target=raw_path),
            headers=[(k, v) for k, v in built.headers.raw if k.lower() != b"host"]
            + [(b"host", url.netloc)],
            content=body,
        )
    return httpx.Response(
        answer.status, headers=answer.headers, content=answer.content, request=built
    )


@pytest.fixture
async def app(webos: KernelHarness) -> RunningKernel:
    running = await webos.start(["files"])
    base = webos.data_dir.parent
    (base / "secret.txt").write_bytes(SECRET_TEXT)
    (webos.data_dir / "secret.txt").write_bytes(SECRET_TEXT)
    # A benign object the normalised form of some attacks would name: must stay unreachable.
    await running.client.put("/api/files/local/b.txt", content=b"benign")
    await running.client.put("/api/files/local/secret.txt", content=b"inside")
    return running


async def test_the_client_really_sends_raw_paths(app: RunningKernel) -> None:
    # If httpx normalised this to /api/files/local/b.txt we would get a 200 here.
    response = await _raw(app, "GET", b"/api/files/local/a/../b.txt")
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("raw_path", RAW_PATHS, ids=[p.decode("latin-1") for p in RAW_PATHS])
async def test_traversal_is_refused_and_writes_nothing(
    app: RunningKernel, webos: KernelHarness, raw_path: bytes
) -> None:
    base = webos.data_dir.parent  # the test's tmp dir: storage root's parent's parent
    before = _tree(base)

    responses = [
        await _raw(app, "PUT", raw_path, content=b"pwned"),
        await _raw(app, "POST", raw_path, files={"file": ("x.txt", b"pwned", "text/plain")}),
        await _raw(app, "GET", raw_path),
        await _raw(app, "HEAD", raw_path),
        await _raw(app, "DELETE", raw_path),
    ]

    for response in responses:
        assert 400 <= response.status_code < 500, (response.request.method, response.text)
        assert SECRET_TEXT not in response.content
        assert b"inside" not in response.content and b"benign" not in response.content
    assert _tree(base) == before


@pytest.mark.parametrize("filename", FILENAMES)
async def test_multipart_filenames_cannot_escape(
    app: RunningKernel, webos: KernelHarness, filename: str
) -> None:
    base = webos.data_dir.parent
    before = _tree(base)

    response = await app.client.post(
        "/api/files/local/in/", files={"file": (filename, b"pwned", "text/plain")}
    )

    assert 400 <= response.status_code < 500, response.text
    assert _tree(base) == before


async def test_symlinks_out_of_the_root_are_refused(
    app: RunningKernel, webos: KernelHarness
) -> None:
    root = storage_root(webos)
    outside = webos.data_dir.parent / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    (root / "file-link.txt").symlink_to(webos.data_dir.parent / "secret.txt")
    before = _tree(webos.data_dir.parent)

    put = await app.client.put("/api/files/local/link/x.txt", content=b"pwned")
    get = await app.client.get("/api/files/local/file-link.txt")
    listed = await app.client.get("/api/files/local/link/")

    assert put.status_code == 403 and get.status_code in (403, 404)
    assert SECRET_TEXT not in get.content
    assert listed.status_code in (200, 403) and "secret" not in listed.text
    assert _tree(webos.data_dir.parent) == before
    assert list(outside.iterdir()) == []
