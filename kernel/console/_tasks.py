"""The Tasks view: queued, running (with progress), retrying, done and failed background tasks.

Reads the tasks subsystem's records (KV, and the stream for queued tasks); the
table is polled every two seconds.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency

from kernel.auth import CurrentPrincipal
from kernel.console._contrib import SYSTEM_READ
from kernel.console._pages import Catalogue
from kernel.console._shell import html, page, render
from kernel.tasks import TaskRecords

READ = {"console_permission": SYSTEM_READ}
#: The most records the view reads (newest first after sorting).
LIMIT = 200
ORDER = {"running": 0, "retrying": 1, "queued": 2, "failed": 3, "succeeded": 4}


async def task_records(tasks: TaskRecords) -> list[Any]:
    """Task statuses from the tasks subsystem's store, running first, then newest first."""
    records = await tasks.recent(LIMIT)
    records.sort(key=lambda r: r.queued_at.timestamp() if r.queued_at else 0, reverse=True)
    records.sort(key=lambda r: ORDER.get(str(r.state.value), 9))
    return records


@get("/tasks", include_in_schema=False, opt=READ)
async def tasks_page(
    request: Request[Any, Any, Any], catalog: Catalogue, principal: CurrentPrincipal
) -> Response[str]:
    return page(request, catalog, principal, "tasks.html", title="Tasks", active="tasks")


@get("/tasks/table", include_in_schema=False, opt=READ)
async def tasks_table(tasks: NamedDependency[TaskRecords]) -> Response[str]:
    try:
        records, error = await task_records(tasks), None
    except Exception as problem:  # shown in the view: the console stays usable
        records, error = [], f"{type(problem).__name__}: {problem}"
    return html(render("tasks_table.html", records=records, error=error))


task_handlers = [tasks_page, tasks_table]
