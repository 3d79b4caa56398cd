"""``webos worker`` and ``webos scheduler``: task processes of their own."""

from __future__ import annotations

import asyncio
import logging
import signal

from kernel.assembly._presets import build_kernel
from kernel.contracts import Role
from kernel.logs import configure_logging
from kernel.runtime import Kernel
from kernel.settings import KernelSettings

log = logging.getLogger("webos.tasks")


async def serve_until_stopped(kernel: Kernel) -> None:
    """Start ``kernel``, run until SIGINT or SIGTERM, then stop it (finishing running work)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await kernel.start()
    try:
        await stop.wait()
    finally:
        log.info("stopping: finishing running tasks")
        await kernel.stop()


def run_worker(settings: KernelSettings) -> int:
    """Run a task worker (``WEBOS_ONLY`` picks the modules whose tasks it runs)."""
    settings.validate_for_start()
    configure_logging(settings)
    asyncio.run(serve_until_stopped(build_kernel(Role.WORKER, settings)))
    return 0


def run_scheduler(settings: KernelSettings) -> int:
    """Run the task scheduler (declared schedules; any number of them fire each tick once)."""
    settings.validate_for_start()
    configure_logging(settings)
    asyncio.run(serve_until_stopped(build_kernel(Role.SCHEDULER, settings)))
    return 0
