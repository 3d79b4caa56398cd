"""What every role's preset is built from: the subsystems of a process running modules' code,
the convention files in the order they are collected, and the one way to make a kernel.

Each role has its own preset next to its process (``_gateway.py``, ``_module.py``,
``_tasks.py``): the one list to extend with a new subsystem or convention file for that role.
Order matters: a subsystem starts after the ones before it (telemetry first, so everything later
starts with the SDK set up; security next, so the identity travels before anything sends), and
conventions are collected in order (settings first, since the others may read them; services
before events and routes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kernel.assembly._hookspecs import HOOKSPECS
from kernel.auth import SecuritySubsystem
from kernel.bus import DeclaredEventsConvention, EventsConvention
from kernel.config import CoreSettings
from kernel.contracts import Role, Subsystem
from kernel.db import DatabaseSubsystem, ModelsConvention
from kernel.explorer import AdminConvention, ExplorerConvention
from kernel.livesettings import LiveSettingsSubsystem
from kernel.modules import HooksConvention, ModuleConvention, RouterConvention, SettingsConvention
from kernel.nodes import NodesSubsystem
from kernel.registry import ServicesConvention, ServicesSubsystem
from kernel.runtime import Kernel
from kernel.storage import StorageSubsystem
from kernel.tasks import TasksConvention, TasksSubsystem
from kernel.telemetry import TelemetrySubsystem


def module_code_parts() -> list[Subsystem]:
    """What a process running modules' code needs, in start order."""
    return [
        TelemetrySubsystem(),
        SecuritySubsystem(),
        NodesSubsystem(),
        DatabaseSubsystem(),
        LiveSettingsSubsystem(),  # before the modules' startup hooks read their settings
        StorageSubsystem(),
        ServicesSubsystem(),
        TasksSubsystem(),
    ]


def conventions(
    *, routes: bool, events: bool, ui: ModuleConvention | None = None
) -> list[ModuleConvention]:
    """The convention files a kernel collects, in order (``ui``: the console's, if any)."""
    found: list[ModuleConvention] = [SettingsConvention(), ModelsConvention(), ServicesConvention()]
    # Without handlers (a worker), the declarations still validate what the modules emit.
    found.append(EventsConvention() if events else DeclaredEventsConvention())
    if routes:
        # The explorer's routes answer where the module's data is: wherever routes are served.
        found += [RouterConvention(), ExplorerConvention(), AdminConvention()]
    found += [HooksConvention(), TasksConvention()]
    if ui is not None:
        found.append(ui)
    return found


def assemble(
    role: Role,
    settings: CoreSettings,
    subsystems: Sequence[Subsystem],
    conventions: Sequence[ModuleConvention],
    **options: Any,
) -> Kernel:
    """A kernel of ``role`` with these parts (``options`` go to :class:`~kernel.runtime.Kernel`,
    a test's own bus for instance)."""
    return Kernel(
        settings,
        role=role,
        subsystems=subsystems,
        conventions=conventions,
        hookspecs=HOOKSPECS,
        **options,
    )
