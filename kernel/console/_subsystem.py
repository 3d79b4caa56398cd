"""The console subsystem: holds the catalog of ``ui.py`` contributions and mounts ``/console``.

In every process ``configure_app`` adds the app-wide guard that answers 403 on a contributed URL
to callers lacking its permission. In the gateway it also mounts the shell (``/console``), its
static files, and the ``ui.py`` fragment routes of modules running in other processes (forwarded
to them over NATS like their other routes).
"""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from litestar import Router
from litestar.config.app import AppConfig
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import PermissionDeniedException
from litestar.static_files import create_static_files_router

from kernel.auth import PUBLIC
from kernel.console._catalog import Catalog, ui_handlers
from kernel.console._contrib import declared_contributions
from kernel.console._session import (
    OPEN,
    SignInRequired,
    console_guard,
    forbidden,
    session_handlers,
    sign_in_required,
)

if TYPE_CHECKING:
    from kernel.runtime import Kernel

STATIC = Path(__file__).parent / "static"


class ConsoleSubsystem:
    name = "console"

    def __init__(self) -> None:
        self.catalog = Catalog()
        #: Set on stop: open event streams end.
        self.closing = asyncio.Event()

    async def start(self, kernel: Kernel) -> None:
        self.closing = asyncio.Event()

    async def stop(self) -> None:
        self.closing.set()

    async def check(self) -> str | None:
        return None

    def configure_app(self, app_config: AppConfig, kernel: Kernel) -> AppConfig:
        app_config.guards.append(self.catalog.guard)
        if kernel.role != "gateway":
            return app_config
        app_config.route_handlers.extend(self._remote_fragments(kernel))
        app_config.route_handlers.append(console_router())
        app_config.state["webos_console_secure"] = kernel.settings.env.value != "dev"
        return app_config

    def _remote_fragments(self, kernel: Kernel) -> list[Router]:
        """``ui.py`` of modules elsewhere: declarations into the catalog, handlers forwarded."""
        from kernel.gateway._app import module_router
        from kernel.gateway._forward import forwarding

        routers = []
        for spec in kernel.elsewhere.values():
            if "ui" not in spec.files or spec.name in self.catalog.modules():
                continue
            source = importlib.import_module(f"{spec.package}.ui")
            self.catalog.add(spec.name, declared_contributions(source))
            module = kernel.describe_elsewhere(spec)
            module.route_handlers.extend(ui_handlers(source))
            if module.route_handlers:
                routers.append(module_router(module, forward=forwarding(kernel, spec.name)))
        return routers


def console_router() -> Router:
    # Imported here: the handlers' signatures name the Kernel, whose module imports this one.
    from kernel.console._pages import page_handlers
    from kernel.console._storage import storage_handlers
    from kernel.console._tasks import task_handlers
    from kernel.console._views import view_handlers

    static = create_static_files_router(
        "/static",
        directories=[STATIC],
        opt={**PUBLIC, **OPEN},
        cache_control=CacheControlHeader(max_age=300),
        include_in_schema=False,
    )
    return Router(
        "/console",
        route_handlers=[
            *session_handlers,
            *page_handlers,
            *view_handlers,
            *task_handlers,
            *storage_handlers,
            static,
        ],
        # Public to the app-wide guard: the console's own guard redirects to sign-in instead.
        opt=dict(PUBLIC),
        guards=[console_guard],
        exception_handlers={
            SignInRequired: sign_in_required,
            PermissionDeniedException: forbidden,
        },
        include_in_schema=False,
    )
