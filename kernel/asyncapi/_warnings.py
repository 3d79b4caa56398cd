"""At start-up, say which consumers would refuse what their producers declare.

A gateway sees every discovered module (those it runs and those running elsewhere), so it is the
one place that can hold each typed handler against each declared payload before the first event
is lost to a dead-letter queue. Each mismatch is logged once per start, at WARNING: a mismatch
is a fault of the modules' code, not of this process, so it does not stop the start.
"""

from __future__ import annotations

import logging

from kernel.asyncapi._build import system_contracts
from kernel.asyncapi._changes import mismatches
from kernel.contracts import Host
from kernel.modules import ModuleSet

log = logging.getLogger("webos.contracts")


class ContractWarnings:
    """A subsystem that only looks: it logs the mismatches of the discovered modules' contracts."""

    name = "contract-warnings"

    def __init__(self) -> None:
        #: What the last start found (one line each), for whoever wants to show them.
        self.found: list[str] = []

    async def start(self, host: Host) -> None:
        discovered = host.get(ModuleSet).discovery.modules.values()
        self.found = mismatches(system_contracts(discovered))
        for line in self.found:
            log.warning("event contract mismatch: %s", line)

    async def stop(self) -> None:
        """Nothing to release."""

    async def check(self) -> None:
        return None
