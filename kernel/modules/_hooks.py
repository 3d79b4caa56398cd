"""The hooks a module may implement in ``hooks.py``.

Implementations may be ``async def`` where the spec says so; the kernel awaits them. Each
implementation may accept any subset of the named arguments (pluggy passes only those it asks
for). Hooks of other extension points live with their owners (``kernel.storage``,
``kernel.auth``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kernel.hooks import hookspec

if TYPE_CHECKING:
    from litestar.config.app import AppConfig

    from kernel.modules._context import ModuleContext


class ModuleHookSpecs:
    @hookspec
    def webos_startup(self, module: ModuleContext) -> Any:
        """Called once when the module starts, after its dependencies started.

        Raising stops the whole kernel start-up; the error names the module.
        """

    @hookspec
    def webos_shutdown(self, module: ModuleContext) -> Any:
        """Called once when the kernel stops, in reverse dependency order."""

    @hookspec
    def webos_configure_app(  # type: ignore[empty-body]
        self, app_config: AppConfig, module: ModuleContext
    ) -> AppConfig:
        """Adjust the gateway's Litestar ``AppConfig`` before the app is built; return it."""

    @hookspec
    def webos_next_steps(self, module: ModuleContext) -> Any:
        """What whoever started the gateway should do next, as a list of lines (or None): asked
        once the gateway serves HTTP, shown in its first lines beside the console's address.

        Only the gateway asks. Keep it quick; an error here is logged, never stops the gateway.
        """

    @hookspec
    def webos_cli_commands(self) -> Any:
        """Command-line commands (``click`` commands or groups) this module adds to ``webos``.

        Return a list. Called by the ``webos`` command with the modules of the modules path, so
        keep it cheap: import what the commands need inside them.
        """
