"""How modules' ``models.py`` reach the database: a convention and a kernel subsystem."""

from __future__ import annotations

import logging
from types import ModuleType
from typing import TYPE_CHECKING, Any

import beanie
from litestar import Request, Response
from pymongo.errors import DuplicateKeyError

from kernel.config import CoreSettings
from kernel.contracts import Host, Role
from kernel.db._client import (
    DocumentClient,
    create_client,
    describe,
    documents_defined_in,
    init_models,
    ping,
)
from kernel.db._settings import DatabaseSettings
from kernel.modules import LoadedModule, ModuleSet
from kernel.problems import problem

if TYPE_CHECKING:
    from litestar.config.app import AppConfig

log = logging.getLogger("webos.db")
DOCUMENTS = "documents"


class ModelsConvention:
    """``models.py``: the Beanie Documents a module defines (not the ones it imports)."""

    stem = "models"

    def collect(self, module: LoadedModule, source: ModuleType, host: Host) -> None:
        module.extras[DOCUMENTS] = documents_defined_in(source)


class DatabaseSubsystem:
    """Opens the document store when some loaded module declares Documents."""

    name = "database"

    def __init__(self) -> None:
        self.client: DocumentClient | None = None

    def configure_app(self, app_config: AppConfig, host: Host) -> AppConfig:
        """A unique-index clash answers 409 naming the fields (never their values)."""
        app_config.exception_handlers[DuplicateKeyError] = _duplicate
        return app_config

    async def start(self, host: Host) -> None:
        documents: list[type[beanie.Document]] = [
            document
            for module in host.get(ModuleSet).running.values()
            for document in module.extras.get(DOCUMENTS, [])
        ]
        if not documents:
            return
        settings = host.get(DatabaseSettings)
        self.client = create_client(settings.url, host.get(CoreSettings).data_dir / "db")
        where = describe(self.client)
        if settings.url is None and host.role is not Role.GATEWAY:
            log.warning(
                "%s runs with the %s: its data is NOT shared with the gateway or other "
                "processes on other machines. Set WEBOS_MONGO_URL to share one database.",
                host.role,
                where,
            )
        try:
            await init_models(self.client, settings.db, documents)
        except Exception as error:
            raise RuntimeError(f"database ({where}): {error}") from error
        log.info("documents in %s, database %r: %s", where, settings.db, _names(documents))

    async def stop(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            await client.close()

    async def check(self) -> str | None:
        if self.client is None or await ping(self.client):
            return None
        return "database is not answering"


def _names(documents: list[Any]) -> str:
    return ", ".join(document.__name__ for document in documents)


def _duplicate(request: Request[Any, Any, Any], exc: DuplicateKeyError) -> Response[Any]:
    # Both the real server and the embedded store report the clashing key; name its fields only,
    # never the values (they may be personal data).
    fields = sorted(
        (exc.details or {}).get("keyValue", {}) or (exc.details or {}).get("keyPattern", {})
    )
    detail = "a record with the same " + (", ".join(fields) or "unique key") + " already exists"
    return problem(409, detail, instance=request.url.path, fields=fields)
