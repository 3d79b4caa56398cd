"""A caller's own tasks: ``GET /api/tasks/mine`` and ``GET /api/tasks/{id}``.

Any signed-in caller may follow the tasks they started, without ``system.read``; a holder of
``system.read`` may read any. A task someone else started answers 404, like an unknown one, so
its id tells a stranger nothing (``kernel.tasks.may_read``).
"""

from __future__ import annotations

from typing import Any

from litestar import Response, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from kernel.auth import CurrentPrincipal
from kernel.problems import problem
from kernel.tasks import TaskRecords


@get("/mine")
async def my_tasks(
    tasks: NamedDependency[TaskRecords], principal: CurrentPrincipal
) -> list[dict[str, Any]]:
    """The caller's tasks (queued, running with progress, finished recently), newest first, at
    most 50."""
    return [
        status.model_dump(mode="json", exclude_none=True) for status in await tasks.mine(principal)
    ]


@get("/{task_id:str}")
async def my_task(
    tasks: NamedDependency[TaskRecords], principal: CurrentPrincipal, task_id: FromPath[str]
) -> Response[Any]:
    """One task the caller started (any task with ``system.read``)."""
    status = await tasks.status_for(task_id, principal)
    if status is None:
        return problem(404, f"no task {task_id!r} of yours (unknown, or its record expired)")
    return Response(status.model_dump(mode="json", exclude_none=True))


#: Signed-in callers only: the app-wide guard refuses anonymous ones (the routes are not public).
tasks_router = Router("/api/tasks", route_handlers=[my_tasks, my_task], tags=["tasks"])
