"""The Services view: instances, rates, latency, in-flight calls and each caller's breaker, read
from real heartbeats of a real gateway and a real standalone module process."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from kernel.nodes import NodesSubsystem
from kernel.registry import ServiceUnavailable
from kernel.testing import (
    KernelHarness,
    RunningKernel,
    add_user,
    bearer,
    login,
    start_with_auth,
    write_module,
)

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, shot_path, sign_in

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]
REPO_MODULES = Path(__file__).resolve().parents[2] / "modules"

SERVICES = """
import asyncio
from kernel import service

@service("flaky")
class Flaky:
    async def work(self, hang: bool) -> str:
        if hang:
            await asyncio.sleep(120)  # far past the policy's timeout
        return "done"
"""
#: Short calls, and a breaker that opens after two failures and stays open a minute: the view
#: must show it open whatever the machine's speed.
MANIFEST = """
version = "0.1.0"

[services.flaky]
timeout = 0.5
breaker = {min_calls = 2, window = 4, failure_ratio = 0.5, cooldown = 60.0}
"""
BEAT = 0.5  # seconds between heartbeats: the gateway's and the module's


async def _gateway(
    webos: KernelHarness, tmp_path: Path, **settings: str
) -> tuple[RunningKernel, str]:
    modules = tmp_path / "mods"
    write_module(modules, "flaky", {"services.py": SERVICES}, manifest=MANIFEST)
    (modules / "auth").symlink_to(REPO_MODULES / "auth")
    app = await start_with_auth(
        webos,
        ["auth"],
        modules_path=modules,
        exclude=["flaky"],
        heartbeat_interval=BEAT,
        **settings,
    )
    await webos.run_module("flaky", modules_path=modules, WEBOS_HEARTBEAT_INTERVAL=str(BEAT))
    return app, await login(app)


async def _row_until(
    app: RunningKernel, token: str, check: Callable[[str], bool], what: str
) -> str:
    """The flaky service's row of the table, once ``check`` holds (bounded: 20 s)."""
    row = ""
    for _ in range(200):
        response = await app.client.get("/console/services/table", headers=bearer(token))
        assert response.status_code == 200, response.text
        found = re.search(r'<tr data-service="flaky">.*?</tr>', response.text, re.S)
        row = found.group(0) if found else ""
        if row and check(row):
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; last row: {row or response.text}")


def _cell(row: str, name: str) -> str:
    found = re.search(rf'<td class="{name}">(.*?)</td>', row, re.S)
    assert found, row
    return found.group(1)


def _calling(row: str) -> bool:
    return (
        re.fullmatch(r"\d+\.\d", _cell(row, "calls")) is not None and _cell(row, "calls") != "0.0"
    )


async def _keep_calling(call: Callable[[], Awaitable[object]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        await call()
        await asyncio.sleep(0.01)


async def test_the_view_shows_instances_rates_and_calls_in_flight(
    webos: KernelHarness, tmp_path: Path
) -> None:
    app, token = await _gateway(webos, tmp_path)
    flaky = app.kernel.registry.get("flaky")
    nodes = app.kernel.get(NodesSubsystem).table.nodes()
    module_node = next(node.node_id for node in nodes if node.role == "module")

    stop = asyncio.Event()
    calling = asyncio.create_task(_keep_calling(lambda: flaky.work(hang=False), stop))
    try:
        row = await _row_until(app, token, _calling, "a call rate")
    finally:
        stop.set()
        await calling
    assert module_node in _cell(row, "instances")
    assert float(_cell(row, "calls")) > 0
    assert _cell(row, "errors") == "0%"
    assert f'data-caller="{app.kernel.node_id}"' in row
    assert " closed " in _cell(row, "callers")

    # A call hanging in the module shows as one in flight from the gateway.
    hanging = asyncio.create_task(flaky.with_options(timeout=30).work(hang=True))
    try:
        row = await _row_until(app, token, lambda r: _cell(r, "in-flight") == "1", "1 in flight")
    finally:
        hanging.cancel()
    assert "<small>1/" in _cell(row, "callers")


async def test_a_breaker_opened_by_a_hanging_module_shows_open_for_that_caller(
    webos: KernelHarness, tmp_path: Path
) -> None:
    app, token = await _gateway(webos, tmp_path)
    flaky = app.kernel.registry.get("flaky")
    await _row_until(app, token, lambda r: "no calls yet" in r, "the service, not called yet")

    for _ in range(2):
        with pytest.raises(ServiceUnavailable):
            await flaky.work(hang=True)
    with pytest.raises(ServiceUnavailable, match="circuit"):
        await flaky.work(hang=False)

    row = await _row_until(app, token, lambda r: "breaker-open" in r, "the open breaker")
    callers = _cell(row, "callers")
    assert f'data-caller="{app.kernel.node_id}"' in callers
    assert " open " in callers


async def test_the_view_needs_system_read(webos: KernelHarness, tmp_path: Path) -> None:
    """A console user without ``system.read`` does not see who calls what."""
    app, token = await _gateway(webos, tmp_path, roles='{"viewer": ["console.view"]}')
    _, user_token = await add_user(app, token, "viewer@example.org", ["viewer"])
    page = await app.client.get("/console", headers=bearer(user_token))
    assert page.status_code == 200  # the console itself is open to a viewer

    refused = await app.client.get("/console/services/table", headers=bearer(user_token))

    assert refused.status_code == 403
    assert "flaky" not in refused.text


async def test_the_view_updates_in_the_browser_without_reload(
    webos: KernelHarness, tmp_path: Path, browser: Any
) -> None:
    app, _ = await _gateway(webos, tmp_path)
    flaky = app.kernel.registry.get("flaky")
    page = await browser.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    await sign_in(page, app.url, ADMIN_EMAIL, ADMIN_PASSWORD, "/console/services")
    loads: list[str] = []
    page.on("load", lambda _: loads.append(page.url))
    row = page.locator("#services tr[data-service=flaky]")
    await expect(row.locator(".callers")).to_contain_text("no calls yet")

    for _ in range(2):
        with pytest.raises(ServiceUnavailable):
            await flaky.work(hang=True)

    caller = row.locator(f"[data-caller='{app.kernel.node_id}']")
    await expect(caller).to_contain_text("open")
    await expect(caller).to_have_class(re.compile(r"\bbreaker-open\b"))
    await page.screenshot(path=shot_path("services"))
    assert loads == []  # the same page all along: the table changed under it
    assert refused == []
    await page.close()
