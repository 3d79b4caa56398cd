"""Phase two: import each convention file and collect what it declares.

Each convention is a small object with the file's stem and a ``collect`` step. The kernel holds
them in a list, so a later subsystem (models, tasks, ui) adds itself by appending one more.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from litestar import Router
from litestar.controller import Controller
from litestar.handlers import BaseRouteHandler

from kernel.bus import marked_subscriptions
from kernel.hooks import register_module_hooks
from kernel.modules._context import LoadedModule, ModuleSettings, load_module_settings
from kernel.registry import declared_service

if TYPE_CHECKING:
    from kernel.runtime import Kernel


class Convention(Protocol):
    """One convention file (``<stem>.py``) and what the kernel does with it."""

    stem: str

    def collect(self, module: LoadedModule, source: ModuleType, kernel: Kernel) -> None: ...


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

    def collect(self, module: LoadedModule, source: ModuleType, kernel: Kernel) -> None:
        classes = [
            value
            for _, value in defined_here(source)
            if inspect.isclass(value) and issubclass(value, ModuleSettings)
        ]
        if len(classes) > 1:
            names = ", ".join(cls.__name__ for cls in classes)
            raise TypeError(f"settings.py defines several ModuleSettings classes: {names}")
        if classes:
            module.context.settings = load_module_settings(classes[0], module.name)


class ServicesConvention:
    stem = "services"

    def collect(self, module: LoadedModule, source: ModuleType, kernel: Kernel) -> None:
        for _, value in defined_here(source):
            declaration = declared_service(value)
            if declaration is None:
                continue
            wants_module = "module" in inspect.signature(value).parameters
            instance = value(module=module.context) if wants_module else value()
            kernel.registry.register(
                declaration.name, instance, module=module.name, provides=declaration.provides
            )
            module.services.append(declaration.name)


class EventsConvention:
    stem = "events"

    def collect(self, module: LoadedModule, source: ModuleType, kernel: Kernel) -> None:
        for _, value in defined_here(source):
            for subscription in marked_subscriptions(value):
                kernel.bus.add_handler(module.name, value, subscription)
                module.subscriptions.append(subscription.subject)


class RouterConvention:
    stem = "router"

    def collect(self, module: LoadedModule, source: ModuleType, kernel: Kernel) -> None:
        router = getattr(source, "router", None)
        if router is not None:
            if not isinstance(router, Router):
                raise TypeError("router.py: 'router' must be a litestar.Router")
            module.route_handlers.append(router)
            return
        for _, value in defined_here(source):
            is_controller = inspect.isclass(value) and issubclass(value, Controller)
            if isinstance(value, BaseRouteHandler) or (is_controller and value is not Controller):
                module.route_handlers.append(value)


class HooksConvention:
    stem = "hooks"

    def collect(self, module: LoadedModule, source: ModuleType, kernel: Kernel) -> None:
        register_module_hooks(kernel.plugins, module.name, source)


def default_conventions() -> list[Convention]:
    # Order matters: settings first (others may read them), services before events and routes.
    return [
        SettingsConvention(),
        ServicesConvention(),
        EventsConvention(),
        RouterConvention(),
        HooksConvention(),
    ]
