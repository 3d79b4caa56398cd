"""The API docs and the console are pages nobody may frame, running scripts of this origin only."""

from __future__ import annotations

import re
from pathlib import Path

from kernel.testing import KernelHarness, add_user, bearer, login, start_with_auth

CDN = re.compile(r"(?:src|href)=['\"]?https?://", re.IGNORECASE)


async def test_docs_pages_load_nothing_from_elsewhere(webos: KernelHarness, tmp_path: Path) -> None:
    app = await webos.start(["greeter"])
    for path in ("/schema", "/schema/swagger", "/schema/redoc"):
        page = await app.client.get(path)
        assert page.status_code == 200, path
        assert not CDN.search(page.text), f"{path} loads from another origin"
        assert "<script>" not in page.text.replace(" ", "")  # no inline script
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        for asset in re.findall(r"(?:src|href)='(/schema/static/[^']+)'", page.text):
            served = await app.client.get(asset)
            assert served.status_code == 200, asset
    schema = await app.client.get("/schema/openapi.json")
    assert "/api/greeter/hello" in schema.json()["paths"]
    for gone in ("/schema/elements", "/schema/rapidoc"):  # CDN-only viewers are not served
        assert (await app.client.get(gone)).status_code == 404


async def test_console_and_sign_in_pages_cannot_be_framed(webos: KernelHarness) -> None:
    app = await start_with_auth(webos, [])
    _, user = await add_user(app, await login(app), "bob@example.org")
    sign_in = await app.client.get("/console/login")
    redirect = await app.client.get("/console/nodes")  # to sign in
    refused = await app.client.get("/console", headers=bearer(user))  # not allowed
    for page in (sign_in, redirect, refused):
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy
        assert page.headers["x-frame-options"] == "DENY"
    assert refused.status_code == 403 and "<script>" not in sign_in.text.replace(" ", "")
    # The API itself is not a page: its answers are left alone.
    assert "x-frame-options" not in (await app.client.get("/health")).headers


async def test_the_site_icon_is_served_to_anyone_and_the_console_links_it(
    webos: KernelHarness,
) -> None:
    app = await start_with_auth(webos, [])
    for path in ("/favicon.ico", "/favicon.svg"):  # browsers ask for the first unasked
        icon = await app.client.get(path)
        assert icon.status_code == 200, path
        assert icon.headers["content-type"] == "image/svg+xml"
        assert icon.content.startswith(b"<svg") and b"http://www.w3.org/2000/svg" in icon.content
    sign_in = await app.client.get("/console/login")
    [linked] = re.findall(r'<link rel="icon" href="([^"]+)"', sign_in.text)
    assert (await app.client.get(linked)).status_code == 200
