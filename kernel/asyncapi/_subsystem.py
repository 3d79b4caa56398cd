"""The catalog over HTTP (gateway only): ``/schema/asyncapi.json`` and ``/schema/asyncapi``.

Both need ``system.read``: the catalog names every module, subject and handler of the system,
which is how an attacker would map it. They sit under ``/schema`` next to the OpenAPI document
(static paths, so Litestar's OpenAPI routes there never shadow them) and get that prefix's page
headers; the page sets the stricter policy of its own (it runs no script at all).

The catalog is built from every discovered module (``ModuleSet.discovery``), those this process
runs and those running elsewhere, from their manifests and code. It is built on the first
request, not at start, so that a gateway starts no slower for it; modules are loaded once per
process (``--reload`` builds a new process), so it is then kept.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar import Response, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.static_files import create_static_files_router

from kernel.asyncapi._build import system_contracts
from kernel.asyncapi._changes import mismatches
from kernel.asyncapi._document import to_asyncapi
from kernel.asyncapi._model import SystemContracts
from kernel.asyncapi._page import ASSETS, catalog_page
from kernel.auth import PUBLIC, STRICT_POLICY, requires
from kernel.contracts import Host
from kernel.modules import ModuleSet
from kernel.transport import NatsSettings

if TYPE_CHECKING:
    from litestar.config.app import AppConfig

log = logging.getLogger("webos.contracts")

STATIC = Path(__file__).parent / "static"
DOCUMENT_PATH = "/schema/asyncapi.json"
PAGE_PATH = "/schema/asyncapi"
READ_PERMISSION = "system.read"


class Catalog:
    """The system's contracts and their AsyncAPI document, built once, when first asked for."""

    def __init__(self, host: Host) -> None:
        self._host = host
        self._contracts: SystemContracts | None = None
        self._document: dict[str, Any] | None = None

    @property
    def contracts(self) -> SystemContracts:
        if self._contracts is None:
            specs = self._host.get(ModuleSet).discovery.modules.values()
            self._contracts = system_contracts(specs)
        return self._contracts

    @property
    def document(self) -> dict[str, Any]:
        if self._document is None:
            url = self._host.get(NatsSettings).effective_url
            self._document = to_asyncapi(self.contracts, server_url=url)
        return self._document


class ContractsSubsystem:
    """Serves the contract catalog of the whole system (see the module docstring) and, at
    start, says which consumers would refuse what their producers declare.

    A gateway sees every discovered module (those it runs and those running elsewhere), so it is
    the one place that can hold each typed handler against each declared payload before the
    first event is lost to a dead-letter queue. Each mismatch is logged once per start, at
    WARNING: it is a fault of the modules' code, not of this process, so it does not stop it.
    """

    name = "contracts"

    def __init__(self) -> None:
        self.catalog: Catalog | None = None
        #: What the last start found (one line each), for whoever wants to show them.
        self.mismatches: list[str] = []

    def catalog_of(self, host: Host) -> Catalog:
        """The one catalog of this kernel (the console's Catalog view reads it too)."""
        if self.catalog is None:
            self.catalog = Catalog(host)
        return self.catalog

    def configure_app(self, app_config: AppConfig, host: Host) -> AppConfig:
        catalog = self.catalog_of(host)
        app_config.route_handlers.append(contracts_router())
        app_config.dependencies["contracts_catalog"] = Provide(
            lambda: catalog, sync_to_thread=False
        )
        return app_config

    async def start(self, host: Host) -> None:
        # The gateway imported every module's events.py and services.py while loading, so
        # building the catalog here costs milliseconds, not a slower start.
        self.mismatches = mismatches(self.catalog_of(host).contracts)
        for line in self.mismatches:
            log.warning("event contract mismatch: %s", line)

    async def stop(self) -> None:
        return None

    async def check(self) -> str | None:
        return None


@get(DOCUMENT_PATH, guards=[requires(READ_PERMISSION)], include_in_schema=False)
async def asyncapi_document(contracts_catalog: NamedDependency[Catalog]) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of every module's events and services."""
    return contracts_catalog.document


@get(PAGE_PATH, guards=[requires(READ_PERMISSION)], include_in_schema=False)
async def asyncapi_page(contracts_catalog: NamedDependency[Catalog]) -> Response[bytes]:
    """The same catalog as a page: subjects, producers, consumers, schemas, services."""
    return Response(
        catalog_page(contracts_catalog.contracts),
        media_type="text/html; charset=utf-8",
        headers={"content-security-policy": STRICT_POLICY},
    )


def contracts_router() -> Router:
    assets = create_static_files_router(
        ASSETS,
        directories=[STATIC],
        opt=dict(PUBLIC),  # a stylesheet: nothing about the system
        cache_control=CacheControlHeader(max_age=3600),
        include_in_schema=False,
    )
    return Router("/", route_handlers=[asyncapi_document, asyncapi_page, assets])
