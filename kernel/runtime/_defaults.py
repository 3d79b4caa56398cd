"""What a kernel is made of unless told otherwise: the one list to extend with a new subsystem."""

from __future__ import annotations

from kernel.auth import SecuritySubsystem
from kernel.console import ConsoleSubsystem, UiConvention
from kernel.db import DatabaseSubsystem, ModelsConvention
from kernel.modules import Convention, default_conventions
from kernel.nodes import NodesSubsystem
from kernel.registry import ServicesSubsystem
from kernel.runtime._subsystem import Subsystem
from kernel.storage import StorageSubsystem
from kernel.tasks import TasksConvention, TasksSubsystem
from kernel.telemetry import TelemetrySubsystem


def kernel_conventions() -> list[Convention]:
    core = default_conventions()
    # models.py right after settings.py: services and handlers may use the Documents.
    return [core[0], ModelsConvention(), *core[1:], TasksConvention(), UiConvention()]


def kernel_subsystems() -> list[Subsystem]:
    # Telemetry first: every later subsystem and module starts with the SDK set up.
    # Security next: keys and the bus identity are in place before anything else starts.
    return [
        TelemetrySubsystem(),
        SecuritySubsystem(),
        NodesSubsystem(),
        DatabaseSubsystem(),
        StorageSubsystem(),
        ServicesSubsystem(),
        TasksSubsystem(),
        ConsoleSubsystem(),
    ]
