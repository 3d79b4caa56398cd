"""The system's contract catalog: every subject with its payload schema, producers and
consumers, every service method, as an AsyncAPI 3.0 document; and what changed between two."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.asyncapi._build import system_contracts
    from kernel.asyncapi._example import example_payload
    from kernel.asyncapi._model import (
        Channel,
        Consumer,
        Producer,
        Schema,
        ServiceMethod,
        SystemContracts,
    )

__getattr__ = lazy_exports(__name__)
__all__ = [
    "Channel",
    "Consumer",
    "Producer",
    "Schema",
    "ServiceMethod",
    "SystemContracts",
    "example_payload",
    "system_contracts",
]
