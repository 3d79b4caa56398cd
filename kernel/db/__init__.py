"""Documents for WebOS modules: Beanie 2 on PyMongo's async client, or an embedded stand-in.

Importing this package has no side effects; nothing connects until a client is used.
"""

from kernel.db._client import (
    DocumentClient,
    create_client,
    describe,
    documents_defined_in,
    init_models,
    is_persistent,
    ping,
)
from kernel.db._standin import StandinClient
from kernel.db._subsystem import DatabaseSubsystem, ModelsConvention

__all__ = [
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
