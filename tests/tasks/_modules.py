"""Modules written for the task tests (into each test's own modules path)."""

from pathlib import Path

from kernel.testing._harness import write_module

JOBS_TASKS = """
import asyncio
import os
from pathlib import Path

from kernel.auth import current_principal
from kernel.context import current_traceparent
from kernel.tasks import current_correlation_id, progress, task, task_info


@task
async def whoami() -> dict:
    await progress(0.5, "looking")
    return {
        "user": current_principal.get().id,
        "traceparent": current_traceparent.get(),
        "correlation": current_correlation_id.get(),
        "pid": os.getpid(),
    }


@task(retries=2, backoff=0.05)
async def flaky(marker: str) -> None:
    with Path(marker).open("a") as out:
        out.write(f"{task_info().attempt} {current_principal.get().id}\\n")
    raise ValueError("always broken")


@task(retries=3, backoff=0.05)
async def slow_once(marker: str) -> str:
    attempt = task_info().attempt
    Path(marker).write_text(f"{attempt} {os.getpid()}")
    if attempt == 1:
        await asyncio.sleep(3600)  # the test kills this worker here
    return f"done on attempt {attempt} as {current_principal.get().id}"


@task
async def echo(value: int) -> dict:
    return {"value": value}


@task(retries=0)
async def nap(marker: str, seconds: float) -> int:
    Path(marker).write_text(str(os.getpid()))
    await asyncio.sleep(seconds)
    return os.getpid()
"""

JOBS_ROUTER = """
from litestar import post

from jobs.tasks import whoami


@post("/whoami", status_code=202)
async def start_whoami() -> dict:
    sent = await whoami.kiq()
    return {"task_id": sent.task_id}
"""

TICKER_TASKS = """
import os
from datetime import timedelta
from pathlib import Path

from kernel.auth import current_principal
from kernel.tasks import task, task_info


@task(every=timedelta(seconds=1), retries=0)
async def tick() -> None:
    with Path(os.environ["TICKER_OUT"]).open("a") as out:
        out.write(f"{task_info().tick} {current_principal.get().id}\\n")


@task(schedule="*/15 * * * *")
async def quarter_hourly() -> None:
    pass
"""


def jobs_module(root: Path) -> Path:
    write_module(root, "jobs", {"tasks.py": JOBS_TASKS, "router.py": JOBS_ROUTER})
    return root


def ticker_module(root: Path) -> Path:
    write_module(root, "ticker", {"tasks.py": TICKER_TASKS})
    return root
