"""The service registry: ``registry.register("email_service", impl)``, ``registry.get(...)``."""

from kernel.registry._registry import (
    Registry,
    ServiceAlreadyRegistered,
    ServiceDeclaration,
    ServiceEntry,
    ServiceNotFound,
    declared_service,
    service,
)

__all__ = [
    "Registry",
    "ServiceAlreadyRegistered",
    "ServiceDeclaration",
    "ServiceEntry",
    "ServiceNotFound",
    "declared_service",
    "registry",
    "service",
]

registry = Registry()
