"""The Tasks view in a browser: done and failed tasks with their result or error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from kernel.testing import KernelHarness, write_module

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, shot_path, sign_in

REPO_MODULES = Path(__file__).resolve().parents[2] / "modules"
pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(120)]

JOBS_TASKS = """
from kernel.tasks import progress, task

@task(retries=0)
async def count(n: int) -> dict:
    await progress(0.5, "halfway")
    return {"counted": n}

@task(retries=0)
async def broken() -> None:
    raise RuntimeError("the printer is on fire")
"""


async def test_tasks_view_shows_done_and_failed_tasks(
    webos: KernelHarness, browser: Any, tmp_path: Path
) -> None:
    modules = tmp_path / "mods"
    write_module(modules, "jobs", {"tasks.py": JOBS_TASKS})
    (modules / "auth").symlink_to(REPO_MODULES / "auth")
    app = await webos.start(
        ["auth", "jobs"],
        modules_path=modules,
        tasks_worker=True,
        environ={"WEBOS_ADMIN_EMAIL": ADMIN_EMAIL, "WEBOS_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    page = await browser.new_page()
    await sign_in(page, app.url, ADMIN_EMAIL, ADMIN_PASSWORD, "/console/tasks")
    await expect(page.locator("#tasks")).to_contain_text("No tasks yet")

    import jobs.tasks  # the module's own package, imported by the kernel from modules_path

    done = await jobs.tasks.count.kiq(3)
    failed = await jobs.tasks.broken.kiq()
    await done.wait_result(timeout=20)
    row = page.locator(f"tr[data-task='{done.task_id}']")
    await expect(row).to_contain_text("succeeded")
    await expect(row).to_contain_text('"counted": 3')
    bad = page.locator(f"tr[data-task='{failed.task_id}']")
    await expect(bad).to_contain_text("failed")
    await expect(bad).to_contain_text("the printer is on fire")
    await page.screenshot(path=shot_path("tasks"))
    await page.close()
