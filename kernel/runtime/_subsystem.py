"""The seam for kernel subsystems that own a connection or a resource (database, storage, ...).

A subsystem may also define ``configure_app(app_config, kernel) -> AppConfig``, called once when
the gateway app is built (before start), to add middleware, guards or routes.

A subsystem starts after the bus and before module startup hooks (so hooks can use it), stops
after them, and reports readiness. The kernel holds a list of them; adding one is a constructor
argument, not an edit of the kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kernel.runtime._kernel import Kernel


class Subsystem(Protocol):
    name: str

    async def start(self, kernel: Kernel) -> None:
        """Open what the loaded modules need; raise to stop start-up (the error names it)."""

    async def stop(self) -> None:
        """Release it. Called once, even after a failed start."""

    async def check(self) -> str | None:
        """None when healthy, else a short reason shown by ``/ready``."""
