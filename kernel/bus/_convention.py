"""``events.py``: the functions marked with ``@on`` become handlers of the kernel's bus."""

from __future__ import annotations

from types import ModuleType

from kernel.bus._bus import Bus
from kernel.bus._handlers import marked_subscriptions
from kernel.contracts import Host
from kernel.modules import LoadedModule, defined_here


class EventsConvention:
    stem = "events"

    def collect(self, module: LoadedModule, source: ModuleType, host: Host) -> None:
        bus = host.get(Bus)
        for _, value in defined_here(source):
            for subscription in marked_subscriptions(value):
                bus.add_handler(module.name, value, subscription)
                module.subscriptions.append(subscription.subject)
