"""Lifecycle hooks over pluggy: ``@hookimpl async def webos_startup(module): ...``."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.hooks._manager import (
        call_module_hook,
        call_module_hook_sync,
        has_hook,
        new_plugin_manager,
        register_module_hooks,
    )
    from kernel.hooks._specs import PROJECT, hookimpl, hookspec

__getattr__ = lazy_exports(__name__)
__all__ = [
    "PROJECT",
    "call_module_hook",
    "call_module_hook_sync",
    "has_hook",
    "hookimpl",
    "hookspec",
    "new_plugin_manager",
    "register_module_hooks",
]
