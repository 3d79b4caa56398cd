"""What a kernel is made of unless told otherwise: the one list to extend with a new subsystem."""

from __future__ import annotations

from kernel.auth import SecuritySubsystem
from kernel.db import DatabaseSubsystem, ModelsConvention
from kernel.modules import Convention, default_conventions
from kernel.nodes import NodesSubsystem
from kernel.registry import ServicesSubsystem
from kernel.runtime._subsystem import Subsystem
from kernel.storage import StorageSubsystem


def kernel_conventions() -> list[Convention]:
    core = default_conventions()
    # models.py right after settings.py: services and handlers may use the Documents.
    return [core[0], ModelsConvention(), *core[1:]]


def kernel_subsystems() -> list[Subsystem]:
    # Security first: keys and the bus identity are in place before anything else starts.
    return [
        SecuritySubsystem(),
        NodesSubsystem(),
        DatabaseSubsystem(),
        StorageSubsystem(),
        ServicesSubsystem(),
    ]
