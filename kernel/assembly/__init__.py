"""Composition roots: the kernel each process role runs, and the processes themselves.

``build_kernel(role, settings)`` assembles a kernel from its role's preset (``_presets.py``,
the one list of subsystems and conventions per role); ``run_gateway``, ``run_modules``,
``run_worker`` and ``run_scheduler`` are the four kinds of process ``webos`` starts.
"""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.assembly._commands import module_commands
    from kernel.assembly._gateway import app_from_environment, nats_for, run_gateway
    from kernel.assembly._hookspecs import HOOKSPECS
    from kernel.assembly._module import run_modules, serve_modules
    from kernel.assembly._presets import PRESETS, build_kernel
    from kernel.assembly._tasks import run_scheduler, run_worker, serve_until_stopped

__getattr__ = lazy_exports(__name__)
__all__ = [
    "HOOKSPECS",
    "PRESETS",
    "app_from_environment",
    "build_kernel",
    "module_commands",
    "nats_for",
    "run_gateway",
    "run_modules",
    "run_scheduler",
    "run_worker",
    "serve_modules",
    "serve_until_stopped",
]
