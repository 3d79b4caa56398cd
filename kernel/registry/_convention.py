"""``services.py``: classes and factories marked with ``@service`` are built and registered."""

from __future__ import annotations

import inspect
from types import ModuleType

from kernel.contracts import Host
from kernel.modules import LoadedModule, defined_here
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
