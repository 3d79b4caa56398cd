"""Phase three: import each convention file and collect what it declares.

Each convention is a small object with the file's stem and a ``collect`` step, kept by the package
that owns what the file declares: ``settings.py``, ``router.py`` and ``hooks.py`` here,
``services.py`` in ``kernel.registry``, ``events.py`` in ``kernel.bus``, ``models.py`` in
``kernel.db``, ``tasks.py`` in ``kernel.tasks``, ``ui.py`` in ``kernel.console``. A role's preset
lists the conventions its kernel collects, in order.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pluggy
from litestar import Router
from litestar.controller import Controller
from litestar.handlers import BaseRouteHandler

from kernel.contracts import Convention, Host
from kernel.hooks import register_module_hooks
from kernel.modules._context import LoadedModule, load_module_settings
from kernel.modules._live import settings_changed_hook, settings_class_in

#: Where the settings convention keeps a module's ``@on_settings_changed`` function.
SETTINGS_CHANGED = "on_settings_changed"
#: ...and the values its environment set at load (``kernel.livesettings``: they win and lock).
SETTINGS_ENVIRONMENT = "settings_environment"
#: A convention of module files, as the runtime's load phases use them.
ModuleConvention = Convention[LoadedModule]


def defined_here(source: ModuleType) -> Iterator[tuple[str, Any]]:
    """Public objects defined in ``source`` itself, not imported into it."""
    for name, value in vars(source).items():
        if name.startswith("_"):
            continue
        # Route handler objects report litestar's module; the function they wrap is ours.
        origin = getattr(value, "fn", value)
        if getattr(origin, "__module__", source.__name__) == source.__name__:
            yield name, value


class SettingsConvention:
    stem = "settings"

    def collect(self, module: LoadedModule, source: ModuleType, host: Host) -> None:
        cls = settings_class_in(source)
        if cls is not None:
            loaded = module.context.settings = load_module_settings(cls, module.name)
            # pydantic-settings hands the model every value its sources found (variables,
            # .env, secrets folders): the fields set are the environment's.
            module.extras[SETTINGS_ENVIRONMENT] = {
                name: getattr(loaded, name) for name in loaded.model_fields_set
            }
        hook = settings_changed_hook(source)
        if hook is not None:
            module.extras[SETTINGS_CHANGED] = hook


class RouterConvention:
    stem = "router"

    def collect(self, module: LoadedModule, source: ModuleType, host: Host) -> None:
        router = getattr(source, "router", None)
        if router is not None:
            if not isinstance(router, Router):
                raise TypeError("router.py: 'router' must be a litestar.Router")
            module.route_handlers.append(router)
            return
        module.route_handlers.extend(route_handlers_in(source))


class HooksConvention:
    stem = "hooks"

    def collect(self, module: LoadedModule, source: ModuleType, host: Host) -> None:
        register_module_hooks(host.get(pluggy.PluginManager), module.name, source)


def route_handlers_in(source: ModuleType) -> list[Any]:
    """Route handlers and controllers a file defines itself (not those it imports)."""
    found = []
    for _, value in defined_here(source):
        is_controller = inspect.isclass(value) and issubclass(value, Controller)
        if isinstance(value, BaseRouteHandler) or (is_controller and value is not Controller):
            found.append(value)
    return found
