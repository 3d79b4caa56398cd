"""The Storage view: listing, upload and download through the console, refusals, a browser."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from kernel.testing import KernelHarness, RunningKernel

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, shot_path, sign_in, start_gateway

pytestmark = pytest.mark.asyncio


async def signed_in(app: RunningKernel, email: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=app.url, timeout=10)
    answer = await client.post("/console/login", data={"email": email, "password": password})
    assert answer.status_code == 303, answer.text
    return client


async def test_upload_list_and_download_through_the_console(webos: KernelHarness) -> None:
    app = await start_gateway(webos, [])
    client = await signed_in(app, ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        page = await client.get("/console/storage")
        assert page.status_code == 200 and 'href="/console/storage"' in page.text
        mounts = await client.get("/console/storage/list")
        assert "local" in mounts.text and "Choose a mount" in mounts.text
        empty = await client.get("/console/storage/list", params={"mount": "local"})
        assert "This folder is empty" in empty.text

        files = {"file": ("notes & more.txt", b"hello storage", "text/plain")}
        url = "/console/storage/upload?mount=local&path=docs"
        refused = await client.post(url, files=files)  # no CSRF header
        assert refused.status_code == 403
        csrf = {"X-CSRF-Token": client.cookies["webos_csrf"]}
        uploaded = await client.post(url, files=files, headers=csrf)
        assert uploaded.status_code == 200, uploaded.text
        assert "Uploaded notes &amp; more.txt (13 bytes)" in uploaded.text

        root = await client.get("/console/storage/list", params={"mount": "local"})
        assert "docs/" in root.text
        folder = await client.get(
            "/console/storage/list", params={"mount": "local", "path": "docs"}
        )
        assert "notes &amp; more.txt" in folder.text and "text/plain" in folder.text
        link = "/console/storage/download?mount=local&amp;path=docs/notes%20%26%20more.txt"
        assert link in folder.text  # the files module does not run here
        download = await client.get(link.replace("&amp;", "&"))
        assert download.status_code == 200 and download.content == b"hello storage"
        assert download.headers["content-type"].startswith("text/plain")
        assert download.headers["x-content-type-options"] == "nosniff"
    finally:
        await client.aclose()


async def test_unknown_mounts_and_paths_are_friendly(webos: KernelHarness) -> None:
    app = await start_gateway(webos, [])
    client = await signed_in(app, ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        cases = {
            ("nope", ""): (404, "There is no mount nope."),
            ("local", "missing/folder"): (404, "There is no folder missing/folder on local."),
            ("local", "a/../b"): (400, "Cannot list fs://local/a/../b"),
        }
        for (mount, path), (status, text) in cases.items():
            answer = await client.get(
                "/console/storage/list", params={"mount": mount, "path": path}
            )
            assert answer.status_code == status and text in answer.text, answer.text
            assert "Traceback" not in answer.text
        gone = await client.get("/console/storage/download?mount=local&path=no/such.txt")
        assert gone.status_code == 404 and "No object fs://local/no/such.txt" in gone.text
    finally:
        await client.aclose()


async def test_download_links_go_to_the_files_module_when_it_runs(webos: KernelHarness) -> None:
    app = await start_gateway(webos, ["files"])
    client = await signed_in(app, ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        csrf = {"X-CSRF-Token": client.cookies["webos_csrf"]}
        files = {"file": ("a.bin", b"\x00\x01\x02", "application/octet-stream")}
        answer = await client.post("/console/storage/upload?mount=local", files=files, headers=csrf)
        assert 'href="/api/files/local/a.bin"' in answer.text
        download = await client.get("/api/files/local/a.bin")  # the session cookie works
        assert download.status_code == 200 and download.content == b"\x00\x01\x02"
    finally:
        await client.aclose()


async def test_storage_needs_files_read_and_upload_files_write(webos: KernelHarness) -> None:
    roles = '{"viewer": ["console.view"], "reader": ["console.view", "files.read"]}'
    app = await start_gateway(webos, [], roles=roles)
    admin = await signed_in(app, ADMIN_EMAIL, ADMIN_PASSWORD)
    token = (
        await app.client.post(
            "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
    ).json()["access_token"]
    for email, role in (("viewer@example.org", "viewer"), ("reader@example.org", "reader")):
        created = await app.client.post(
            "/api/auth/users/",
            json={"email": email, "password": PASSWORD, "roles": [role]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201, created.text
    viewer = await signed_in(app, "viewer@example.org", PASSWORD)
    reader = await signed_in(app, "reader@example.org", PASSWORD)
    try:
        assert "/console/storage" not in (await viewer.get("/console")).text
        for url in ("/console/storage", "/console/storage/list?mount=local"):
            answer = await viewer.get(url)
            assert answer.status_code == 403 and "files.read" in answer.text
        listing = await reader.get("/console/storage/list", params={"mount": "local"})
        assert listing.status_code == 200 and "<form" not in listing.text
        upload = await reader.post(
            "/console/storage/upload?mount=local",
            files={"file": ("x.txt", b"x", "text/plain")},
            headers={"X-CSRF-Token": reader.cookies["webos_csrf"]},
        )
        assert upload.status_code == 403 and "files.write" in upload.text
    finally:
        for client in (admin, viewer, reader):
            await client.aclose()


@pytest.mark.timeout(120)
async def test_storage_view_in_a_browser(webos: KernelHarness, browser: Any) -> None:
    app = await start_gateway(webos, [])
    page = await browser.new_page()
    await sign_in(page, app.url, ADMIN_EMAIL, ADMIN_PASSWORD, "/console/storage")
    await page.get_by_role("button", name="local").click()
    await expect(page.locator("#storage")).to_contain_text("This folder is empty")
    await page.locator("input[type=file]").set_input_files(
        {"name": "hello.txt", "mimeType": "text/plain", "buffer": b"hi there"}
    )
    await page.get_by_role("button", name="Upload", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("Uploaded hello.txt (8 bytes)")
    row = page.locator("tr[data-path='hello.txt']")
    await expect(row).to_contain_text("text/plain")
    async with page.expect_download() as info:
        await row.get_by_role("link", name="Download").click()
    download = await info.value
    saved = Path(await download.path())
    assert await asyncio.to_thread(saved.read_bytes) == b"hi there"
    await page.screenshot(path=shot_path("storage"))
    await page.close()
