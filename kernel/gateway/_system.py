"""Routes every gateway serves: liveness, readiness and the system views."""

from __future__ import annotations

from typing import Any

from litestar import Response, Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from kernel.auth import PUBLIC, requires
from kernel.gateway._problems import PROBLEM_JSON, problem
from kernel.runtime import Kernel


@get("/health", sync_to_thread=False, tags=["system"], opt=PUBLIC)
def health() -> dict[str, str]:
    """Liveness: the process is up and serving HTTP."""
    return {"status": "ok"}


@get("/ready", tags=["system"], opt=PUBLIC)
async def ready(kernel: NamedDependency[Kernel]) -> Response[dict[str, Any]]:
    """Readiness: 200 when NATS, subsystems and every module are up, else 503 with reasons."""
    is_ready, reasons = await kernel.readiness()
    if is_ready:
        return Response({"status": "ready", "modules": len(kernel.modules)})
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
def modules(kernel: NamedDependency[Kernel]) -> list[dict[str, Any]]:
    """The modules this process runs: name, version, depends, convention files, state."""
    return kernel.describe_modules()


@get("/bus", sync_to_thread=False)
def bus_stats(kernel: NamedDependency[Kernel]) -> dict[str, Any]:
    """Events published, handled, failed, rejected and dropped, per handler."""
    return kernel.bus.stats()


@get("/nodes", sync_to_thread=False)
def nodes(kernel: NamedDependency[Kernel]) -> list[dict[str, Any]]:
    """Live processes (gateway, module processes, workers) from their heartbeats."""
    table = kernel.subsystem("nodes").table
    return [node.model_dump() for node in table.nodes()]


@get("/services", sync_to_thread=False)
def services(kernel: NamedDependency[Kernel]) -> list[dict[str, Any]]:
    """Services registered in this process."""
    return kernel.registry.describe()


@get("/tasks")
async def tasks_overview(kernel: NamedDependency[Kernel]) -> dict[str, Any]:
    """Tasks this process knows, and its worker's counters when it runs one."""
    return kernel.subsystem("tasks").describe()


@get("/tasks/{task_id:str}")
async def task_status(kernel: NamedDependency[Kernel], task_id: FromPath[str]) -> Response[Any]:
    """One task: queued, running (with progress), retrying, succeeded (result) or failed (error)."""
    status = await kernel.subsystem("tasks").status(task_id)
    if status is None:
        return problem(404, f"no task {task_id!r} (unknown, or its record expired)")
    return Response(status.model_dump(mode="json", exclude_none=True))


system_router = Router(
    "/api/system",
    route_handlers=[modules, bus_stats, nodes, services, tasks_overview, task_status],
    tags=["system"],
    guards=[requires("system.read")],
)
probe_handlers = [health, ready]
