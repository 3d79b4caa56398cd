"""The service registry: ``registry.register("email_service", impl)``, ``registry.get(...)``."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.registry._convention import ServicesConvention
    from kernel.registry._registry import (
        Registry,
        ServiceAlreadyRegistered,
        ServiceDeclaration,
        ServiceEntry,
        ServiceNotFound,
        declared_service,
        registry,
        service,
    )
    from kernel.registry._remote import (
        MethodContract,
        NotRemotable,
        RemoteServiceError,
        RemoteServiceProxy,
        ServiceUnavailable,
        method_contracts,
    )
    from kernel.registry._routing import (
        SUBJECT_PREFIX,
        choose_subject,
        instance_subject,
        method_subject,
    )
    from kernel.registry._subsystem import ServicesSubsystem, declare_remote_services

__getattr__ = lazy_exports(__name__)
__all__ = [
    "SUBJECT_PREFIX",
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
    "ServicesConvention",
    "ServicesSubsystem",
    "choose_subject",
    "declare_remote_services",
    "declared_service",
    "instance_subject",
    "method_contracts",
    "method_subject",
    "registry",
    "service",
]
