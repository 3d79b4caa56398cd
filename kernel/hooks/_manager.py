"""One plugin manager per kernel; each module's ``hooks.py`` is a plugin named after the module."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import pluggy

from kernel.hooks._specs import PROJECT


def new_plugin_manager(specs: Iterable[type]) -> pluggy.PluginManager:
    """A manager that knows every hook in ``specs`` (a module may implement any of them)."""
    manager = pluggy.PluginManager(PROJECT)
    for spec in specs:
        manager.add_hookspecs(spec)
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


def call_module_hook_sync(
    manager: pluggy.PluginManager, hook_name: str, module_name: str, **kwargs: Any
) -> Any:
    """Call one synchronous hook of one module (None when it does not implement it)."""
    plugin = manager.get_plugin(module_name)
    if plugin is None:
        return None
    for impl in getattr(manager.hook, hook_name).get_hookimpls():
        if impl.plugin is plugin:
            return impl.function(**{name: kwargs[name] for name in impl.argnames})
    return None


def has_hook(manager: pluggy.PluginManager, hook_name: str, module_name: str) -> bool:
    plugin = manager.get_plugin(module_name)
    caller = getattr(manager.hook, hook_name)
    return plugin is not None and any(impl.plugin is plugin for impl in caller.get_hookimpls())
