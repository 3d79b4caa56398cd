from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

import pluggy

from kernel.hooks._specs import PROJECT, LifecycleSpecs


def new_plugin_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(LifecycleSpecs)
    return manager


def register_module_hooks(
    manager: pluggy.PluginManager, module_name: str, hooks: ModuleType
) -> None:
    """Register a module's ``hooks.py`` under the module's name; pluggy checks the signatures."""
    manager.register(hooks, name=module_name)
    manager.check_pending()


async def call_module_hook(
    manager: pluggy.PluginManager, hook_name: str, module_name: str, **kwargs: Any
) -> Any:
    """Call one hook of one module and await it when it is a coroutine.

    Calling per module (rather than pluggy's all-at-once call) is what lets start-up run in
    dependency order and name the module whose hook failed.
    """
    plugin = manager.get_plugin(module_name)
    if plugin is None:
        return None
    caller = getattr(manager.hook, hook_name)
    for impl in caller.get_hookimpls():
        if impl.plugin is not plugin:
            continue
        args = {name: kwargs[name] for name in impl.argnames}
        result = impl.function(**args)
        if inspect.isawaitable(result):
            result = await result
        return result
    return None


def has_hook(manager: pluggy.PluginManager, hook_name: str, module_name: str) -> bool:
    plugin = manager.get_plugin(module_name)
    caller = getattr(manager.hook, hook_name)
    return plugin is not None and any(impl.plugin is plugin for impl in caller.get_hookimpls())
