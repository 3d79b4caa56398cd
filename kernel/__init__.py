"""WebOS: a distributed microkernel for Python back ends.

The names module authors use every day are re-exported here::

    from kernel import bus, registry, on, service, hookimpl
    from kernel import Event, ModuleContext, ModuleSettings, ThisModule
"""

from kernel.bus import Event, bus, on
from kernel.hooks import hookimpl
from kernel.modules import ModuleContext, ModuleSettings, ThisModule
from kernel.registry import registry, service
from kernel.storage import afs

__all__ = [
    "Event",
    "ModuleContext",
    "ModuleSettings",
    "ThisModule",
    "afs",
    "bus",
    "hookimpl",
    "on",
    "registry",
    "service",
]
