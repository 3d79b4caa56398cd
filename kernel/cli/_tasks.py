"""``webos worker`` and ``webos scheduler``: task processes of their own."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import click

from kernel.settings import KernelSettings, load_settings

log = logging.getLogger("webos.tasks")


def worker_kernel(settings: KernelSettings) -> object:
    """A kernel that runs modules' tasks: their settings, models, services and hooks, but no
    event handlers and no routes (the module's own process keeps those)."""
    from kernel.runtime import Kernel
    from kernel.runtime._defaults import kernel_conventions

    conventions = [c for c in kernel_conventions() if c.stem not in ("events", "router")]
    return Kernel(settings, role="worker", conventions=conventions)


def scheduler_kernel(settings: KernelSettings) -> object:
    """A kernel that only reads ``tasks.py`` (for declared schedules) and sends tasks."""
    from kernel.auth import SecuritySubsystem
    from kernel.nodes import NodesSubsystem
    from kernel.runtime import Kernel
    from kernel.tasks import TasksConvention, TasksSubsystem
    from kernel.telemetry import TelemetrySubsystem

    return Kernel(
        settings,
        role="scheduler",
        conventions=[TasksConvention()],
        subsystems=[
            TelemetrySubsystem(),
            SecuritySubsystem(),
            NodesSubsystem(),
            TasksSubsystem(),
        ],
    )


async def _serve(kernel: object) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await kernel.start()  # type: ignore[attr-defined]
    try:
        await stop.wait()
    finally:
        log.info("stopping: finishing running tasks")
        await kernel.stop()  # type: ignore[attr-defined]


def _csv(value: str | None) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()] if value else []


@click.command()
@click.option("--modules", help="Run the tasks of these modules only (comma-separated).")
@click.option("--concurrency", type=int, help="Tasks run at once (WEBOS_TASKS_CONCURRENCY).")
def worker(modules: str | None, concurrency: int | None) -> None:
    """Run a task worker connected to WEBOS_NATS_URL (default: the gateway's NATS)."""
    from kernel.errors import WebOSError
    from kernel.logs import configure_logging

    try:
        overrides: dict[str, object] = {"only": _csv(modules), "exclude": []}
        if concurrency is not None:
            overrides["tasks_concurrency"] = concurrency
        settings = load_settings(**overrides)
        settings.validate_for_start()
        configure_logging(settings)
        asyncio.run(_serve(worker_kernel(settings)))
    except WebOSError as error:
        click.echo(f"webos: error: {error}", err=True)
        sys.exit(1)


@click.command()
def scheduler() -> None:
    """Run the task scheduler (declared schedules; any number of them fire each tick once)."""
    from kernel.errors import WebOSError
    from kernel.logs import configure_logging

    try:
        settings = load_settings()
        settings.validate_for_start()
        configure_logging(settings)
        asyncio.run(_serve(scheduler_kernel(settings)))
    except WebOSError as error:
        click.echo(f"webos: error: {error}", err=True)
        sys.exit(1)
