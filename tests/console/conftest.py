"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser).

The tests fail (they do not skip) when Chromium or Playwright is missing: ``.ci/run`` installs
Chromium and the test extra installs Playwright's Python package.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from kernel.testing import KernelHarness, RunningKernel, start_with_auth

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "console"
ADMIN_EMAIL = "root@example.org"
ADMIN_PASSWORD = "correct horse battery staple"
PASSWORD = "a long enough passphrase"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    found = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
    if not found:
        pytest.fail(
            "the console's browser tests need Debian's Chromium at /usr/bin/chromium: "
            "apt-get install -y chromium (.ci/run does it)",
            pytrace=False,
        )
    return found


@pytest_asyncio.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Any]:
    """A fresh headless Chromium profile (a Playwright persistent context)."""
    executable = _chromium()
    try:
        from playwright.async_api import async_playwright
    except ModuleNotFoundError:
        pytest.fail("the console's browser tests need `pip install playwright`", pytrace=False)
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=executable,
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 800},
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            await context.close()


def shot_path(name: str) -> str:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / f"{name}.png")


async def start_gateway(webos: KernelHarness, modules: list[str], **settings: Any) -> RunningKernel:
    return await start_with_auth(webos, modules, **settings)


async def sign_in(page: Any, base: str, email: str, password: str, path: str = "/console") -> None:
    await page.goto(f"{base}{path}")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(lambda url: "/console/login" not in url)
