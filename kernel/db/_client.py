"""Choosing the document store and registering Beanie models with it.

The rest of the kernel only ever holds "a client": a real ``pymongo.AsyncMongoClient`` when a
URL is configured, otherwise the embedded stand-in. Everything here accepts either, so callers
never branch on which one they got.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeAlias

import beanie
import pymongo
import pymongo.errors

if TYPE_CHECKING:
    from kernel.db._standin import StandinClient

__all__ = [
    "DocumentClient",
    "create_client",
    "describe",
    "documents_defined_in",
    "init_models",
    "is_persistent",
    "ping",
]

PING_TIMEOUT_SECONDS = 2.0  # a readiness probe must answer fast, not wait for server selection
DocumentClient: TypeAlias = "pymongo.AsyncMongoClient[dict[str, Any]] | StandinClient"


def create_client(mongo_url: str | None, data_dir: Path | None) -> DocumentClient:
    """Return a real client for ``mongo_url``, else the embedded store.

    ``data_dir`` is the directory the embedded store owns outright (e.g. ``.webos/db``); with
    ``None`` the embedded store lives in memory and vanishes with the process. It is ignored
    when a URL is given. Creating a client does no I/O: PyMongo connects lazily.
    """
    if mongo_url:
        # tz_aware so datetimes read back equal the aware datetimes that were written.
        return pymongo.AsyncMongoClient(mongo_url, tz_aware=True)
    # Loaded only here: a process on MongoDB never loads mongomock.
    from kernel.db._standin import StandinClient

    return StandinClient(Path(data_dir) if data_dir is not None else None)


async def init_models(
    client: DocumentClient,
    db_name: str,
    documents: Sequence[type[beanie.Document]],
) -> None:
    """Bind ``documents`` to ``db_name`` and create their declared indexes.

    Index creation is additive: indexes removed from a model are left in place on purpose,
    since dropping an index on a shared production database is not a start-up side effect.
    """
    # The stand-in answers the same calls as PyMongo's AsyncDatabase (tests/db checks it).
    database: Any = client[db_name]
    await beanie.init_beanie(database=database, document_models=list(documents))


async def ping(client: DocumentClient) -> bool:
    """Readiness probe: False instead of raising, and bounded even if the server is away."""
    try:
        async with asyncio.timeout(PING_TIMEOUT_SECONDS):
            reply = await client.admin.command("ping")
    except (TimeoutError, pymongo.errors.PyMongoError, OSError):
        return False
    return bool(reply.get("ok"))


def is_persistent(client: DocumentClient) -> bool:
    """Whether data written through ``client`` outlives the process."""
    if isinstance(client, pymongo.AsyncMongoClient):
        return True
    return client.data_dir is not None


def describe(client: DocumentClient) -> str:
    """One line for start-up logs saying where documents go; never includes credentials."""
    if not isinstance(client, pymongo.AsyncMongoClient):
        if client.data_dir is None:
            return "embedded in-memory document store (data is lost when the process exits)"
        return (
            f"embedded document store at {client.data_dir} "
            "(per machine, not shared with a real MongoDB)"
        )
    seeds = ", ".join(
        f"{host}:{port}" for host, port in client.topology_description.server_descriptions()
    )
    return f"MongoDB at {seeds or 'unknown address'}"


def documents_defined_in(module: ModuleType) -> list[type[beanie.Document]]:
    """The Document classes a module *declares*, in declaration order.

    Imported Documents belong to the module that defines them and would otherwise be
    registered twice. A locally defined class is skipped when it is only a base: it is
    marked abstract (``__abstract__ = True`` in its own body, or an ``abc`` abstract class),
    or it has no ``Settings`` of its own while another local Document inherits from it.
    """
    local: list[type[beanie.Document]] = []
    for value in vars(module).values():
        if (
            inspect.isclass(value)
            and issubclass(value, beanie.Document)
            and value is not beanie.Document
            and value.__module__ == module.__name__
            and value not in local
        ):
            local.append(value)

    def is_base(cls: type[beanie.Document]) -> bool:
        if cls.__dict__.get("__abstract__", False) or inspect.isabstract(cls):
            return True
        has_own_settings = "Settings" in cls.__dict__
        inherited = any(other is not cls and issubclass(other, cls) for other in local)
        return inherited and not has_own_settings

    return [cls for cls in local if not is_base(cls)]
