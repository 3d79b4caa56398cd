"""Documents for WebOS modules: Beanie 2 on PyMongo's async client, or an embedded stand-in.

Importing this package has no side effects; nothing connects until a client is used, and the
embedded stand-in (mongomock) loads only when a process uses it.
"""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.db._client import (
        DocumentClient,
        create_client,
        describe,
        documents_defined_in,
        init_models,
        is_persistent,
        ping,
    )
    from kernel.db._settings import DatabaseSettings
    from kernel.db._standin import StandinClient
    from kernel.db._subsystem import DatabaseSubsystem, ModelsConvention

__getattr__ = lazy_exports(__name__)
__all__ = [
    "DatabaseSettings",
    "DatabaseSubsystem",
    "DocumentClient",
    "ModelsConvention",
    "StandinClient",
    "create_client",
    "describe",
    "documents_defined_in",
    "init_models",
    "is_persistent",
    "ping",
]
