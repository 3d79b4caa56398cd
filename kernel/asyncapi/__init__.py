"""The system's contract catalog: every subject with its payload schema, producers and
consumers, every service method, as an AsyncAPI 3.0 document; and what changed between two."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.asyncapi._build import system_contracts
    from kernel.asyncapi._changes import Change, compare, mismatches
    from kernel.asyncapi._compat import describe, schema_problems
    from kernel.asyncapi._document import nats_server, to_asyncapi
    from kernel.asyncapi._example import example_payload
    from kernel.asyncapi._model import (
        Channel,
        Consumer,
        Producer,
        Schema,
        ServiceMethod,
        SystemContracts,
    )
    from kernel.asyncapi._reading import ContractDocumentInvalid, from_asyncapi
    from kernel.asyncapi._subsystem import Catalog, ContractsSubsystem

__getattr__ = lazy_exports(__name__)
__all__ = [
    "Catalog",
    "Change",
    "Channel",
    "Consumer",
    "ContractDocumentInvalid",
    "ContractsSubsystem",
    "Producer",
    "Schema",
    "ServiceMethod",
    "SystemContracts",
    "compare",
    "describe",
    "example_payload",
    "from_asyncapi",
    "mismatches",
    "nats_server",
    "schema_problems",
    "system_contracts",
    "to_asyncapi",
]
