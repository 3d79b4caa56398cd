"""My tasks: every signed-in user's own background tasks, in the header and on a page.

The header of every console page carries a small indicator (``/console/tasks/mine/indicator``):
how many of the user's tasks are running or queued and the progress of the newest. It polls
every two seconds while something runs and every ten otherwise (the fragment sets its own
trigger), and links to ``/console/tasks/mine``: a list with progress bars, messages, results and
errors. No ``system.read`` needed: a user sees only the tasks they started
(``TaskRecords.mine``, which compares the principal each record got from a verified identity).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency

from kernel.auth import CurrentPrincipal
from kernel.console._pages import Catalogue
from kernel.console._shell import html, page, render
from kernel.tasks import TaskRecords, TaskState

ACTIVE = (TaskState.QUEUED, TaskState.RUNNING, TaskState.RETRYING)
#: Seconds between polls of the indicator while a task of the user runs, and while none does.
POLL_ACTIVE, POLL_IDLE = 2, 10


@get("/tasks/mine", include_in_schema=False)
async def my_tasks_page(
    request: Request[Any, Any, Any], catalog: Catalogue, principal: CurrentPrincipal
) -> Response[str]:
    return page(request, catalog, principal, "mytasks.html", title="My tasks", active="mytasks")


@get("/tasks/mine/list", include_in_schema=False)
async def my_tasks_list(
    tasks: NamedDependency[TaskRecords], principal: CurrentPrincipal
) -> Response[str]:
    try:
        records, error = await tasks.mine(principal), None
    except Exception as problem:  # shown in the view: the console stays usable
        records, error = [], f"{type(problem).__name__}: {problem}"
    return html(render("mytasks_list.html", records=records, error=error))


@get("/tasks/mine/indicator", include_in_schema=False)
async def my_tasks_indicator(
    tasks: NamedDependency[TaskRecords], principal: CurrentPrincipal
) -> Response[str]:
    try:
        records, error = await tasks.mine(principal), None
    except Exception as problem:  # the indicator says so; every page stays usable
        records, error = [], f"{type(problem).__name__}: {problem}"
    active = [r for r in records if r.state in ACTIVE]
    return html(
        render(
            "mytasks_indicator.html",
            active=active,
            newest=active[0] if active else None,
            error=error,
            every=POLL_ACTIVE if active else POLL_IDLE,
        )
    )


my_task_handlers = [my_tasks_page, my_tasks_list, my_tasks_indicator]
