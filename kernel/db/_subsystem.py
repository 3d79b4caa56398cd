"""How modules' ``models.py`` reach the database: a convention and a kernel subsystem."""

from __future__ import annotations

import logging
from types import ModuleType
from typing import TYPE_CHECKING, Any

import beanie

from kernel.db._client import (
    DocumentClient,
    create_client,
    describe,
    documents_defined_in,
    init_models,
    ping,
)

if TYPE_CHECKING:
    from kernel.modules import LoadedModule
    from kernel.runtime import Kernel

log = logging.getLogger("webos.db")
DOCUMENTS = "documents"


class ModelsConvention:
    """``models.py``: the Beanie Documents a module defines (not the ones it imports)."""

    stem = "models"

    def collect(self, module: LoadedModule, source: ModuleType, kernel: Kernel) -> None:
        module.extras[DOCUMENTS] = documents_defined_in(source)


class DatabaseSubsystem:
    """Opens the document store when some loaded module declares Documents."""

    name = "database"

    def __init__(self) -> None:
        self.client: DocumentClient | None = None

    async def start(self, kernel: Kernel) -> None:
        documents: list[type[beanie.Document]] = [
            document
            for module in kernel.modules.values()
            for document in module.extras.get(DOCUMENTS, [])
        ]
        if not documents:
            return
        settings = kernel.settings
        self.client = create_client(settings.mongo_url, settings.data_dir / "db")
        where = describe(self.client)
        if settings.mongo_url is None and kernel.role != "gateway":
            log.warning(
                "%s runs with the %s: its data is NOT shared with the gateway or other "
                "processes on other machines. Set WEBOS_MONGO_URL to share one database.",
                kernel.role,
                where,
            )
        try:
            await init_models(self.client, settings.mongo_db, documents)
        except Exception as error:
            raise RuntimeError(f"database ({where}): {error}") from error
        log.info("documents in %s, database %r: %s", where, settings.mongo_db, _names(documents))

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
