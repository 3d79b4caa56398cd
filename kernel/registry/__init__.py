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
from kernel.registry._remote import (
    MethodContract,
    NotRemotable,
    RemoteServiceError,
    RemoteServiceProxy,
    ServiceUnavailable,
    method_contracts,
    method_subject,
)
from kernel.registry._subsystem import ServicesSubsystem, declare_remote_services

__all__ = [
    "MethodContract",
    "NotRemotable",
    "Registry",
    "RemoteServiceError",
    "RemoteServiceProxy",
    "ServiceAlreadyRegistered",
    "ServiceDeclaration",
    "ServiceEntry",
    "ServiceNotFound",
    "ServiceUnavailable",
    "ServicesSubsystem",
    "declare_remote_services",
    "declared_service",
    "method_contracts",
    "method_subject",
    "registry",
    "service",
]

registry = Registry()
