"""The service registry: ``registry.register("email_service", impl)``, ``registry.get(...)``."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.registry._arguments import InvalidServiceArguments
    from kernel.registry._calls import (
        InvalidServiceName,
        ServiceArgumentsRejected,
        UnknownServiceMethod,
        call_service,
        departure,
        parse_target,
    )
    from kernel.registry._catalog import ServiceMethod, contract_schemas, list_services
    from kernel.registry._contracts import MethodContract, NotRemotable, method_contracts
    from kernel.registry._convention import ServicesConvention
    from kernel.registry._guard import CIRCUIT_PREFIX, CircuitState
    from kernel.registry._policy import POLICY_MARKER, BreakerPolicy, CallPolicy, fallback
    from kernel.registry._registry import (
        Registry,
        ServiceAlreadyRegistered,
        ServiceDeclaration,
        ServiceEntry,
        ServiceNotFound,
        call_stats,
        declared_service,
        registry,
        service,
    )
    from kernel.registry._remote import (
        RemoteServiceError,
        RemoteServiceProxy,
        ServiceUnavailable,
    )
    from kernel.registry._routing import (
        SUBJECT_PREFIX,
        choose_subject,
        instance_subject,
        method_subject,
    )
    from kernel.registry._settings import ServicesSettings
    from kernel.registry._subsystem import ServicesSubsystem, declare_remote_services

__getattr__ = lazy_exports(__name__)
__all__ = [
    "CIRCUIT_PREFIX",
    "POLICY_MARKER",
    "SUBJECT_PREFIX",
    "BreakerPolicy",
    "CallPolicy",
    "CircuitState",
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
    "ServicesSettings",
    "ServicesSubsystem",
    "UnknownServiceMethod",
    "call_service",
    "call_stats",
    "choose_subject",
    "contract_schemas",
    "declare_remote_services",
    "declared_service",
    "departure",
    "fallback",
    "instance_subject",
    "list_services",
    "method_contracts",
    "method_subject",
    "parse_target",
    "registry",
    "service",
]
