"""One composition root per process role: which subsystems and conventions a kernel has.

This is the one list to extend with a new subsystem or convention file. Order matters: a
subsystem starts after the ones before it (telemetry first, so everything later starts with the
SDK set up; security next, so the identity travels before anything sends), and conventions are
collected in order (settings first, since the others may read them; services before events and
routes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kernel.assembly._hookspecs import HOOKSPECS
from kernel.auth import SecuritySubsystem
from kernel.bus import EventsConvention
from kernel.config import CoreSettings
from kernel.console import CatalogSubsystem, ConsoleSubsystem, UiConvention
from kernel.contracts import Role, Subsystem
from kernel.db import DatabaseSubsystem, ModelsConvention
from kernel.forwarding import ForwardingClient, ForwardingServer
from kernel.modules import (
    HooksConvention,
    ModuleConvention,
    RouterConvention,
    SettingsConvention,
)
from kernel.nodes import NodesSubsystem
from kernel.registry import ServicesConvention, ServicesSubsystem
from kernel.runtime import Kernel
from kernel.storage import StorageSubsystem
from kernel.tasks import TasksConvention, TasksSubsystem
from kernel.telemetry import TelemetrySubsystem


def _module_parts() -> list[Subsystem]:
    """What a process running modules' code needs, in start order."""
    return [
        TelemetrySubsystem(),
        SecuritySubsystem(),
        NodesSubsystem(),
        DatabaseSubsystem(),
        StorageSubsystem(),
        ServicesSubsystem(),
        TasksSubsystem(),
    ]


def _conventions(*, routes: bool, events: bool, ui: bool) -> list[ModuleConvention]:
    found: list[ModuleConvention] = [SettingsConvention(), ModelsConvention(), ServicesConvention()]
    if events:
        found.append(EventsConvention())
    if routes:
        found.append(RouterConvention())
    found += [HooksConvention(), TasksConvention()]
    if ui:
        found.append(UiConvention())
    return found


def gateway_parts() -> tuple[list[Subsystem], list[ModuleConvention]]:
    """The gateway: every module it runs, the console, and the routes of modules elsewhere."""
    subsystems = [*_module_parts(), ForwardingClient(), ConsoleSubsystem()]
    return subsystems, _conventions(routes=True, events=True, ui=True)


def module_parts() -> tuple[list[Subsystem], list[ModuleConvention]]:
    """A module process (``webos module run``): its routes answer the gateway over NATS."""
    # The forwarding server last: it holds early requests until the kernel has started.
    subsystems = [*_module_parts(), CatalogSubsystem(), ForwardingServer()]
    return subsystems, _conventions(routes=True, events=True, ui=True)


def worker_parts() -> tuple[list[Subsystem], list[ModuleConvention]]:
    """A task worker (``webos worker``): modules' settings, models, services, hooks and tasks,
    but no event handlers and no routes (the module's own process keeps those)."""
    return _module_parts(), _conventions(routes=False, events=False, ui=False)


def scheduler_parts() -> tuple[list[Subsystem], list[ModuleConvention]]:
    """The scheduler (``webos scheduler``): reads ``tasks.py`` for declared schedules, sends."""
    subsystems: list[Subsystem] = [
        TelemetrySubsystem(),
        SecuritySubsystem(),
        NodesSubsystem(),
        TasksSubsystem(),
    ]
    return subsystems, [TasksConvention()]


PRESETS: dict[Role, Callable[[], tuple[list[Subsystem], list[ModuleConvention]]]] = {
    Role.GATEWAY: gateway_parts,
    Role.MODULE: module_parts,
    Role.WORKER: worker_parts,
    Role.SCHEDULER: scheduler_parts,
}


def build_kernel(role: Role | str, settings: CoreSettings, **options: Any) -> Kernel:
    """A kernel for ``role`` with its preset's subsystems and conventions (``options`` go to
    :class:`~kernel.runtime.Kernel`: a test's own bus, for instance)."""
    role = Role(role)
    subsystems, conventions = PRESETS[role]()
    return Kernel(
        settings,
        role=role,
        subsystems=subsystems,
        conventions=conventions,
        hookspecs=HOOKSPECS,
        **options,
    )
