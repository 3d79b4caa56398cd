"""The console subsystem (gateway only): the catalog of ``ui.py`` contributions plus the shell.

On top of what :class:`CatalogSubsystem` does in every process (the guard on contributed URLs), it
mounts the shell (``/console``), its static files, and the ``ui.py`` fragment routes of modules
running in other processes (forwarded to them over NATS like their other routes).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.exceptions import PermissionDeniedException
from litestar.static_files import create_static_files_router

from kernel.asyncapi import ContractsSubsystem, SystemContracts, system_contracts
from kernel.auth import PUBLIC, STRICT_POLICY, add_page_headers
from kernel.config import CoreSettings, Environment
from kernel.console._catalog import CatalogSubsystem, ui_handlers
from kernel.console._contracts import ContractsCache, contracts_handlers
from kernel.console._contrib import declared_contributions
from kernel.console._data import data_handlers
from kernel.console._mytasks import my_task_handlers
from kernel.console._pages import page_handlers
from kernel.console._services import services_handlers
from kernel.console._session import (
    OPEN,
    SignInRequired,
    console_guard,
    forbidden,
    session_handlers,
    sign_in_required,
)
from kernel.console._settings import settings_handlers
from kernel.console._storage import storage_handlers
from kernel.console._tasks import task_handlers
from kernel.console._views import view_handlers
from kernel.contracts import Host
from kernel.forwarding import ForwardingClient
from kernel.modules import ModuleSet, module_router

if TYPE_CHECKING:
    from litestar.config.app import AppConfig

STATIC = Path(__file__).parent / "static"


class ConsoleSubsystem(CatalogSubsystem):
    def __init__(self) -> None:
        super().__init__()
        #: Set on stop: open event streams end.
        self.closing = asyncio.Event()

    async def start(self, host: Host) -> None:
        self.closing = asyncio.Event()

    async def stop(self) -> None:
        self.closing.set()

    def configure_app(self, app_config: AppConfig, host: Host) -> AppConfig:
        app_config = super().configure_app(app_config, host)
        app_config.route_handlers.extend(self._remote_fragments(host))
        app_config.route_handlers.append(console_router())
        # Console pages: never framed, scripts from this origin only (templates have none inline).
        add_page_headers(app_config.middleware, "/console", STRICT_POLICY)
        app_config.dependencies["console_closing"] = Provide(
            lambda: self.closing, sync_to_thread=False
        )
        contracts = ContractsCache(_contracts_of(host))
        app_config.dependencies["contracts"] = Provide(lambda: contracts, sync_to_thread=False)
        app_config.state["webos_console_subjects"] = contracts.subjects
        app_config.state["webos_console_secure"] = host.get(CoreSettings).env is not Environment.DEV
        return app_config

    def _remote_fragments(self, host: Host) -> list[Router]:
        """``ui.py`` of modules elsewhere: declarations into the catalog, handlers forwarded."""
        modules = host.get(ModuleSet)
        forwarding = host.find(ForwardingClient)
        routers = []
        for spec in modules.elsewhere.values():
            if "ui" not in spec.files or spec.name in self.catalog.modules():
                continue
            source = importlib.import_module(f"{spec.package}.ui")
            self.catalog.add(spec.name, declared_contributions(source))
            module = modules.elsewhere_module(spec)
            module.route_handlers.extend(ui_handlers(source))
            if module.route_handlers and forwarding is not None:
                forward = forwarding.middleware(host, spec.name)
                routers.append(module_router(module, forward=forward))
        return routers


def _contracts_of(host: Host) -> Callable[[], SystemContracts]:
    """The gateway's one catalog when it serves one; else built from the discovered modules."""
    served = host.find(ContractsSubsystem)
    if served is not None:
        catalog = served.catalog_of(host)
        return lambda: catalog.contracts
    modules = host.get(ModuleSet)
    return lambda: system_contracts(modules.discovery.modules.values())


def console_router() -> Router:
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
            *services_handlers,
            *contracts_handlers,
            *task_handlers,
            *my_task_handlers,
            *storage_handlers,
            *settings_handlers,
            *data_handlers,
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
