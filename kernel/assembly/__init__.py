"""Composition roots: the kernel each process role runs, and the processes themselves.

One preset per role, next to its process: ``gateway_kernel`` (``_gateway.py``), ``module_kernel``
(``_module.py``), ``worker_kernel`` and ``scheduler_kernel`` (``_tasks.py``), all built from the
shared parts in ``_parts.py``. ``run_gateway``, ``run_modules``, ``run_worker`` and
``run_scheduler`` are the four kinds of process ``webos`` starts. A role loads only its own
preset's imports: a module process never loads the console's shell.
"""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.assembly._commands import module_commands
    from kernel.assembly._gateway import gateway_kernel, nats_for, run_gateway
    from kernel.assembly._hookspecs import HOOKSPECS
    from kernel.assembly._http_protocol import CoalescingHttpToolsProtocol
    from kernel.assembly._module import module_kernel, module_process, run_modules, serve_modules
    from kernel.assembly._reload import app_from_environment
    from kernel.assembly._serving import (
        freeze_startup_heap,
        serve_until_stopped,
        until_stopped,
    )
    from kernel.assembly._tasks import run_scheduler, run_worker, scheduler_kernel, worker_kernel

__getattr__ = lazy_exports(__name__)
__all__ = [
    "HOOKSPECS",
    "CoalescingHttpToolsProtocol",
    "app_from_environment",
    "freeze_startup_heap",
    "gateway_kernel",
    "module_commands",
    "module_kernel",
    "module_process",
    "nats_for",
    "run_gateway",
    "run_modules",
    "run_scheduler",
    "run_worker",
    "scheduler_kernel",
    "serve_modules",
    "serve_until_stopped",
    "until_stopped",
    "worker_kernel",
]
