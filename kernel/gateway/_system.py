"""Routes every gateway serves: liveness, readiness and the system views.

Handlers receive what they show through dependencies the app provides (``readiness``,
``modules``, ``bus``, ``registry``) or that subsystems provide (``node_table``, ``tasks``):
none of them knows the kernel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Response, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from kernel.auth import PUBLIC, requires
from kernel.bus import Bus
from kernel.nodes import NodeTable
from kernel.problems import PROBLEM_JSON, problem
from kernel.registry import Registry
from kernel.tasks import TaskRecords
from kernel.transport import stream_status

#: ``readiness()`` -> (ready, reasons): the kernel's own check.
Readiness = Callable[[], Awaitable[tuple[bool, list[str]]]]
#: ``modules()`` -> one description per module this process runs.
ModuleList = Callable[[], list[dict[str, Any]]]


@get("/health", sync_to_thread=False, tags=["system"], opt=PUBLIC)
def health() -> dict[str, str]:
    """Liveness: the process is up and serving HTTP."""
    return {"status": "ok"}


@get("/ready", tags=["system"], opt=PUBLIC)
async def ready(
    readiness: NamedDependency[Readiness], modules: NamedDependency[ModuleList]
) -> Response[dict[str, Any]]:
    """Readiness: 200 when NATS, subsystems and every module are up, else 503 with reasons."""
    is_ready, reasons = await readiness()
    if is_ready:
        return Response({"status": "ready", "modules": len(modules())})
    return Response(
        {
            "type": "about:blank",
            "title": "Service Unavailable",
            "status": 503,
            "detail": "; ".join(reasons),
            "reasons": reasons,
        },
        status_code=503,
        media_type=PROBLEM_JSON,
    )


@get("/modules", sync_to_thread=False)
def modules_view(modules: NamedDependency[ModuleList]) -> list[dict[str, Any]]:
    """The modules this process runs: name, version, depends, convention files, state."""
    return modules()


@get("/bus")
async def bus_stats(bus: NamedDependency[Bus]) -> dict[str, Any]:
    """Events published, handled, failed, rejected and dropped, per handler; the NATS server this
    process reaches; the kernel's JetStream streams and buckets: copies, leader, and how far
    behind each other copy is."""
    stats = bus.stats()
    try:
        stats["streams"] = await stream_status(bus.nats.jetstream())
    except Exception as error:  # shown, not raised: the counters above are still worth seeing
        stats["streams"], stats["streams_error"] = None, f"{type(error).__name__}: {error}"
    return stats


@get("/nodes", sync_to_thread=False)
def nodes(node_table: NamedDependency[NodeTable]) -> list[dict[str, Any]]:
    """Live processes (gateway, module processes, workers) from their heartbeats."""
    return [node.model_dump() for node in node_table.nodes()]


@get("/services", sync_to_thread=False)
def services(registry: NamedDependency[Registry]) -> list[dict[str, Any]]:
    """Services registered in this process."""
    return registry.describe()


@get("/tasks")
async def tasks_overview(tasks: NamedDependency[TaskRecords]) -> dict[str, Any]:
    """Tasks this process knows, and its worker's counters when it runs one."""
    return tasks.describe()


@get("/tasks/{task_id:str}")
async def task_status(tasks: NamedDependency[TaskRecords], task_id: FromPath[str]) -> Response[Any]:
    """One task: queued, running (with progress), retrying, succeeded (result) or failed (error)."""
    status = await tasks.status(task_id)
    if status is None:
        return problem(404, f"no task {task_id!r} (unknown, or its record expired)")
    return Response(status.model_dump(mode="json", exclude_none=True))


system_router = Router(
    "/api/system",
    route_handlers=[modules_view, bus_stats, nodes, services, tasks_overview, task_status],
    tags=["system"],
    guards=[requires("system.read")],
)
probe_handlers = [health, ready]
