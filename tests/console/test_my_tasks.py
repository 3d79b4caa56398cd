"""My tasks in a browser: a user without system.read follows their report in the header."""

from __future__ import annotations

import json
import os
import re
import signal
from typing import Any

import pytest
from playwright.async_api import expect

from kernel.testing import USER_PASSWORD, KernelHarness, add_user, login, start_with_auth

from .conftest import shot_path, sign_in

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]

START_REPORT = """async (pages) => {
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("webos_csrf=")).slice(11);
  const response = await fetch("/api/reports/", {method: "POST",
    headers: {"content-type": "application/json", "X-CSRF-Token": decodeURIComponent(csrf)},
    body: JSON.stringify({title: "November", pages})});
  return [response.status, await response.text()];
}"""
STATUS = "(id) => fetch('/api/tasks/' + id).then(async (r) => [r.status, await r.text()])"


async def test_a_user_follows_their_report_in_the_header(
    webos: KernelHarness, browser: Any
) -> None:
    # No worker yet: the report waits in the queue until the test starts one.
    app = await start_with_auth(
        webos, ["reports"], tasks_worker=False, roles='{"viewer": ["console.view"]}'
    )
    admin = await login(app)
    await add_user(app, admin, "ada@example.org", ["viewer"])
    page = await browser.new_page()
    await sign_in(page, app.url, "ada@example.org", USER_PASSWORD)
    indicator = page.locator("#my-tasks-indicator")
    await expect(indicator).to_have_attribute("aria-label", "My tasks: none running")
    await expect(page.get_by_role("link", name="Tasks", exact=True)).to_have_count(0)

    status, body = await page.evaluate(START_REPORT, 100)
    assert status == 202, body
    task_id = json.loads(body)["task_id"]
    await page.reload()
    await expect(indicator).to_have_attribute("aria-label", "My tasks: 1 running")
    await expect(indicator).to_contain_text("queued")

    worker = await webos.run_worker("reports")
    # Catch the task mid-way and hold its worker still, so the page is seen at that moment.
    for _ in range(2000):
        status, body = await page.evaluate(STATUS, task_id)
        assert status == 200, body
        record = json.loads(body)
        assert record["state"] in ("queued", "running"), record
        if record["state"] == "running" and record.get("progress"):
            break
    else:
        pytest.fail(f"the report never showed progress: {record}")
    os.kill(worker.pid, signal.SIGSTOP)
    try:
        # The worker may have reported more between that read and the stop: read what it holds.
        status, body = await page.evaluate(STATUS, task_id)
        assert status == 200, body
        record = json.loads(body)
        percent = f"{round(record['progress'] * 100)}%"
        await expect(indicator).to_contain_text(percent)
        await expect(indicator.locator("progress")).to_have_attribute(
            "value", str(record["progress"])
        )
        await page.screenshot(path=shot_path("my-tasks-indicator"))
    finally:
        os.kill(worker.pid, signal.SIGCONT)

    # The rest of the report takes its worker a few seconds more: a failure bound, not a measure.
    await expect(indicator).to_have_attribute(
        "aria-label", "My tasks: none running", timeout=60_000
    )
    await indicator.focus()
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/console/tasks/mine$"))
    item = page.locator(f"[data-task='{task_id}']")
    await expect(item).to_contain_text("succeeded")
    await expect(item).to_contain_text("100%")
    await expect(item).to_contain_text('"title": "November"')
    await page.screenshot(path=shot_path("my-tasks"))
    await page.close()
    await worker.stop()


async def test_my_tasks_is_in_the_palette(webos: KernelHarness, browser: Any) -> None:
    app = await start_with_auth(webos, ["reports"], roles='{"viewer": ["console.view"]}')
    admin = await login(app)
    await add_user(app, admin, "ada@example.org", ["viewer"])
    page = await browser.new_page()
    await sign_in(page, app.url, "ada@example.org", USER_PASSWORD)
    await page.keyboard.press("Control+k")
    await page.keyboard.type("my tasks")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/console/tasks/mine$"))
    await expect(page.locator("#my-tasks")).to_contain_text("You have no recent tasks")
    await page.close()
