"""How modules' ``models.py`` reach the database: a convention and a kernel subsystem."""

from __future__ import annotations

import logging
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from litestar import Request, Response

from kernel.config import CoreSettings
from kernel.contracts import Host, Role
from kernel.db._settings import DatabaseSettings
from kernel.modules import LoadedModule, ModuleSet
from kernel.problems import problem

# Beanie and PyMongo (with the embedded store's mongomock) load only in a process whose modules
# have a models.py, or that uses PyMongo itself: ``_client`` is imported when one is met.
if TYPE_CHECKING:
    import beanie
    from litestar.config.app import AppConfig
    from pymongo.errors import DuplicateKeyError

    from kernel.db._client import DocumentClient

log = logging.getLogger("webos.db")
DOCUMENTS = "documents"


class ModelsConvention:
    """``models.py``: the Beanie Documents a module defines (not the ones it imports)."""

    stem = "models"

    def collect(self, module: LoadedModule, source: ModuleType, host: Host) -> None:
        from kernel.db._client import documents_defined_in

        module.extras[DOCUMENTS] = documents_defined_in(source)


class DatabaseSubsystem:
    """Opens the document store when some loaded module declares Documents."""

    name = "database"

    def __init__(self) -> None:
        self.client: DocumentClient | None = None

    def configure_app(self, app_config: AppConfig, host: Host) -> AppConfig:
        """A unique-index clash answers 409 naming the fields (never their values)."""
        # Only where a clash can happen: Documents are served here, or a module uses PyMongo.
        if _documents(host) or "pymongo" in sys.modules:
            from pymongo.errors import DuplicateKeyError

            app_config.exception_handlers[DuplicateKeyError] = _duplicate
        return app_config

    async def start(self, host: Host) -> None:
        documents = _documents(host)
        if not documents:
            return
        from kernel.db._client import create_client, describe, init_models

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
        if self.client is None:
            return None
        from kernel.db._client import ping

        if await ping(self.client):
            return None
        return "database is not answering"


def _documents(host: Host) -> list[type[beanie.Document]]:
    """The Documents of the modules this process runs (``models.py``)."""
    return [
        document
        for module in host.get(ModuleSet).running.values()
        for document in module.extras.get(DOCUMENTS, [])
    ]


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
