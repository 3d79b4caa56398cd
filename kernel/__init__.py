"""WebOS: a distributed microkernel for Python back ends.

The names module authors use every day are re-exported here::

    from kernel import bus, registry, on, service, fallback, hookimpl, afs
    from kernel import Event, ModuleContext, ModuleSettings, ThisModule

They resolve on first use (``kernel._lazy``), so ``import kernel.errors`` loads nothing else.
"""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports
from kernel.transport._nats import nats_without_aiohttp

# Before anything imports nats-py (the kernel or FastStream): it will load without aiohttp,
# unless a ws:// URL needs it (``kernel/transport/_nats.py``). Registers a hook, imports nothing.
nats_without_aiohttp()

# ``bus`` and ``registry`` are also the names of subpackages: importing ``kernel.bus`` binds the
# subpackage to the name ``bus`` here. Both objects are cheap and their modules load nothing
# heavy, so they are bound now, after their subpackages, and the names stay the objects.
from kernel.bus._bus import bus  # noqa: E402 (after import_nats)
from kernel.registry._registry import registry  # noqa: E402

if TYPE_CHECKING:
    from kernel.bus import Event, EventType, event, on
    from kernel.hooks import hookimpl
    from kernel.modules import ModuleContext, ModuleSettings, ThisModule, on_settings_changed
    from kernel.registry import fallback, service
    from kernel.storage import afs

__getattr__ = lazy_exports(__name__)
__all__ = [
    "Event",
    "EventType",
    "ModuleContext",
    "ModuleSettings",
    "ThisModule",
    "afs",
    "bus",
    "event",
    "fallback",
    "hookimpl",
    "on",
    "on_settings_changed",
    "registry",
    "service",
]
