"""Lifecycle hooks over pluggy: ``@hookimpl async def webos_startup(module): ...``."""

from kernel.hooks._manager import (
    call_module_hook,
    has_hook,
    new_plugin_manager,
    register_module_hooks,
)
from kernel.hooks._specs import LifecycleSpecs, hookimpl, hookspec

__all__ = [
    "LifecycleSpecs",
    "call_module_hook",
    "has_hook",
    "hookimpl",
    "hookspec",
    "new_plugin_manager",
    "register_module_hooks",
]
