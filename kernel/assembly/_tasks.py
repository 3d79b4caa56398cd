"""``webos worker`` and ``webos scheduler``: task processes of their own."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kernel.assembly._parts import assemble, conventions, module_code_parts
from kernel.assembly._serving import import_faststream_without_uvicorn, serve_until_stopped
from kernel.auth import SecuritySubsystem
from kernel.config import CoreSettings
from kernel.contracts import Role, Subsystem
from kernel.logs import configure_logging
from kernel.nodes import NodesSubsystem
from kernel.runtime import Kernel
from kernel.settings import KernelSettings
from kernel.tasks import TasksConvention, TasksSubsystem
from kernel.telemetry import TelemetrySubsystem

log = logging.getLogger("webos.tasks")


def worker_kernel(settings: CoreSettings, **options: Any) -> Kernel:
    """The preset of a task worker (``webos worker``): modules' settings, models, services, hooks
    and tasks, the events its modules declare (to validate their emits), but no event handlers
    and no routes (the module's own process keeps those)."""
    parts = conventions(routes=False, events=False)
    return assemble(Role.WORKER, settings, module_code_parts(), parts, **options)


def scheduler_kernel(settings: CoreSettings, **options: Any) -> Kernel:
    """The preset of the scheduler (``webos scheduler``): reads ``tasks.py`` for declared
    schedules and sends them."""
    subsystems: list[Subsystem] = [
        TelemetrySubsystem(),
        SecuritySubsystem(),
        NodesSubsystem(),
        TasksSubsystem(),
    ]
    return assemble(Role.SCHEDULER, settings, subsystems, [TasksConvention()], **options)


def run_worker(settings: KernelSettings) -> int:
    """Run a task worker (``WEBOS_ONLY`` picks the modules whose tasks it runs)."""
    import_faststream_without_uvicorn()
    settings.validate_for_start()
    configure_logging(settings)
    asyncio.run(serve_until_stopped(worker_kernel(settings)))
    return 0


def run_scheduler(settings: KernelSettings) -> int:
    """Run the task scheduler (declared schedules; any number of them fire each tick once)."""
    import_faststream_without_uvicorn()
    settings.validate_for_start()
    configure_logging(settings)
    asyncio.run(serve_until_stopped(scheduler_kernel(settings)))
    return 0
