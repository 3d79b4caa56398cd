"""Lifecycle hooks a module may implement in ``hooks.py``.

Implementations may be ``async def``; the kernel awaits them. Each implementation may accept any
subset of the named arguments (pluggy passes only those it asks for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from litestar.config.app import AppConfig

    from kernel.modules import ModuleContext
    from kernel.storage import BackendKinds

PROJECT = "webos"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class LifecycleSpecs:
    @hookspec
    def webos_startup(self, module: ModuleContext) -> Any:
        """Called once when the module starts, after its dependencies started.

        Raising stops the whole kernel start-up; the error names the module.
        """

    @hookspec
    def webos_shutdown(self, module: ModuleContext) -> Any:
        """Called once when the kernel stops, in reverse dependency order."""

    @hookspec
    def webos_configure_app(self, app_config: AppConfig, module: ModuleContext) -> AppConfig:
        """Adjust the gateway's Litestar ``AppConfig`` before the app is built; return it."""

    @hookspec
    def webos_storage_backends(self, kinds: BackendKinds) -> None:
        """Add storage backend kinds: ``kinds.register_backend_kind("ftp", factory)``.

        Called once when storage starts, before mounts are built from settings.
        """
