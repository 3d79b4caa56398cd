"""The service registry: ``registry.register("email_service", impl)``, ``registry.get(...)``."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.registry._arguments import InvalidServiceArguments
    from kernel.registry._calls import (
        InvalidServiceName,
        ServiceArgumentsRejected,
        call_service,
        parse_target,
    )
    from kernel.registry._catalog import ServiceMethod, list_services
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
        SUBJECT_PREFIX,
        MethodContract,
        NotRemotable,
        RemoteServiceError,
        RemoteServiceProxy,
        ServiceUnavailable,
        method_contracts,
        method_subject,
    )
    from kernel.registry._subsystem import ServicesSubsystem, declare_remote_services

__getattr__ = lazy_exports(__name__)
__all__ = [
    "SUBJECT_PREFIX",
    "InvalidServiceArguments",
    "InvalidServiceName",
    "MethodContract",
    "NotRemotable",
    "Registry",
    "RemoteServiceError",
    "RemoteServiceProxy",
    "ServiceAlreadyRegistered",
    "ServiceArgumentsRejected",
    "ServiceDeclaration",
    "ServiceEntry",
    "ServiceMethod",
    "ServiceNotFound",
    "ServiceUnavailable",
    "ServicesConvention",
    "ServicesSubsystem",
    "call_service",
    "declare_remote_services",
    "declared_service",
    "list_services",
    "method_contracts",
    "method_subject",
    "parse_target",
    "registry",
    "service",
]
