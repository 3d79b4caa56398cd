"""How Documents reach the explorer: two conventions and a subsystem.

``models.py`` (again, after the database's own convention): every Document of a module this
process runs gets the explorer's routes under ``/api/<module>``, so the process that owns the data
answers for it. ``admin.py``: ``ModelAdmin`` objects configuring those Documents. The subsystem
holds the :class:`Explorer`; in the gateway it also learns the Documents of modules running
elsewhere (importing ``models.py`` declares, it runs nothing) and forwards their explorer routes,
so the console lists every model wherever it lives.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, Router
from litestar.controller import Controller
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler

from kernel.contracts import Host
from kernel.explorer._options import ModelAdmin
from kernel.explorer._problems import InvalidRecord
from kernel.explorer._views import Explorer, model_name
from kernel.forwarding import ForwardingClient
from kernel.modules import LoadedModule, ModuleSet, module_router
from kernel.problems import problem

if TYPE_CHECKING:
    from litestar.config.app import AppConfig

#: Where the explorer's routes live under every module with Documents.
PATHS = ("/admin", "/console/data")


class ExplorerSubsystem:
    name = "explorer"

    def __init__(self) -> None:
        self.explorer = Explorer()

    def configure_app(self, app_config: AppConfig, host: Host) -> AppConfig:
        explorer = self.explorer
        app_config.dependencies["explorer"] = Provide(lambda: explorer, sync_to_thread=False)
        app_config.exception_handlers[InvalidRecord] = _invalid
        app_config.state["webos_explorer"] = explorer
        forwarding = host.find(ForwardingClient)
        if forwarding is not None:
            app_config.route_handlers.extend(self._remote_routers(host, forwarding))
        return app_config

    def _remote_routers(self, host: Host, forwarding: ForwardingClient) -> list[Router]:
        modules = host.get(ModuleSet)
        routers = []
        for spec in modules.elsewhere.values():
            if "models" not in spec.files or self.explorer.of_module(spec.name):
                continue
            documents = _defined_in(importlib.import_module(f"{spec.package}.models"))
            if not documents:
                continue
            self.explorer.add(spec.name, documents)
            if "admin" in spec.files:
                configure(
                    self.explorer, spec.name, importlib.import_module(f"{spec.package}.admin")
                )
            module = modules.elsewhere_module(spec)
            module.route_handlers.extend(handlers())
            forward = forwarding.middleware(host, spec.name)
            routers.append(module_router(module, forward=forward))
        return routers

    async def start(self, host: Host) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def check(self) -> str | None:
        return None


class ExplorerConvention:
    """``models.py``, for the explorer: the module's Documents and the routes that serve them."""

    stem = "models"

    def collect(self, module: LoadedModule, source: ModuleType, host: Host) -> None:
        subsystem = host.find(ExplorerSubsystem)
        documents = _defined_in(source)
        if subsystem is None or not documents:
            return
        taken = sorted(
            path
            for path in _paths(module.route_handlers)
            if any(path == mine or path.startswith(f"{mine}/") for mine in PATHS)
        )
        if taken:
            # Litestar would keep one of two handlers on one path without a word: refuse instead.
            raise TypeError(
                f"the data explorer serves /api/{module.name}{{{', '.join(PATHS)}}}..., "
                f"but the module's routes already use {', '.join(taken)}"
            )
        subsystem.explorer.add(module.name, documents)
        module.route_handlers.extend(handlers())


class AdminConvention:
    """``admin.py``: ``ModelAdmin`` objects, each configuring one of the module's Documents."""

    stem = "admin"

    def collect(self, module: LoadedModule, source: ModuleType, host: Host) -> None:
        subsystem = host.find(ExplorerSubsystem)
        if subsystem is not None:
            configure(subsystem.explorer, module.name, source)


def handlers() -> list[Any]:
    """The explorer's routes, mounted under every module with Documents. Imported on first use:
    they load Beanie, which a process without any ``models.py`` never needs."""
    from kernel.explorer._api import api_handlers
    from kernel.explorer._html import html_handlers

    return [*api_handlers, *html_handlers]


def _defined_in(source: ModuleType) -> list[Any]:
    from kernel.db._client import documents_defined_in  # Beanie: only for a models.py

    return documents_defined_in(source)


def configure(explorer: Explorer, module: str, source: ModuleType) -> None:
    for value in vars(source).values():
        if not isinstance(value, ModelAdmin):
            continue
        document = value.document
        if document is None or f"{module}.{model_name(document)}" not in explorer.views:
            mine = ", ".join(v.title for v in explorer.of_module(module)) or "none"
            raise TypeError(
                f"admin.py: ModelAdmin(document=...) must name a Document of models.py "
                f"(got {document!r}; this module's: {mine})"
            )
        explorer.configure(module, document, value)


def _paths(handlers: list[Any]) -> list[str]:
    """The paths of a module's handlers, routers and controllers (relative to its mount)."""
    found: list[str] = []
    for handler in handlers:
        if isinstance(handler, HTTPRouteHandler):
            found += handler.paths
        elif isinstance(handler, Router) or (
            isinstance(handler, type) and issubclass(handler, Controller)
        ):
            found.append(str(getattr(handler, "path", "")))
    return found


def _invalid(request: Request[Any, Any, Any], exc: InvalidRecord) -> Response[Any]:
    return problem(exc.http_status, str(exc), instance=request.url.path, errors=exc.errors)
