"""``services.py``: classes and factories marked with ``@service`` are built and registered."""

from __future__ import annotations

import inspect
from types import ModuleType

from kernel.contracts import Host
from kernel.errors import ModuleError
from kernel.modules import LoadedModule, ModuleSpec, defined_here
from kernel.registry._registry import Registry, declared_service


class ServicesConvention:
    stem = "services"

    def collect(self, module: LoadedModule, source: ModuleType, host: Host) -> None:
        registry = host.get(Registry)
        for _, value in defined_here(source):
            declaration = declared_service(value)
            if declaration is None:
                continue
            wants_module = "module" in inspect.signature(value).parameters
            instance = value(module=module.context) if wants_module else value()
            registry.register(
                declaration.name, instance, module=module.name, provides=declaration.provides
            )
            module.services.append(declaration.name)
        refuse_unknown_tables(module.spec, module.services)


def refuse_unknown_tables(spec: ModuleSpec, declared: list[str]) -> None:
    """A ``[services.NAME]`` table for a service the module does not declare would tune nothing
    (a typo, or a service renamed): refused, naming what the module declares."""
    unknown = sorted(set(spec.manifest.services) - set(declared))
    if unknown:
        tables = ", ".join(f"[services.{name}]" for name in unknown)
        raise ModuleError(
            f"module {spec.name!r}: module.toml has {tables}, but its services.py declares "
            f"no such service. Declared: {', '.join(sorted(declared)) or 'none'}",
            modules=(spec.name,),
        )
