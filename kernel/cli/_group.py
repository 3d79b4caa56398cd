"""The ``webos`` command group: kernel errors as one line, and the commands modules add."""

from __future__ import annotations

import logging
from typing import Any

import click

from kernel.errors import WebOSError

log = logging.getLogger("webos.cli")


class WebOSGroup(click.Group):
    """Prints any kernel error as ``webos: error: ...`` and exits 1 (no traceback), and adds the
    commands of the modules in the modules path (``webos_cli_commands`` in their hooks.py)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._module_commands: dict[str, click.Command] | None = None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WebOSError as error:
            # The message names the cause; the traceback helps only whoever debugs the kernel.
            log.debug("the traceback of the error below", exc_info=error)
            click.echo(f"webos: error: {error}", err=True)
            ctx.exit(1)

    def _from_modules(self) -> dict[str, click.Command]:
        if self._module_commands is None:
            self._module_commands = {}
            try:
                self._module_commands = _load_module_commands(set(self.commands))
            except WebOSError as error:
                click.echo(f"webos: warning: module commands unavailable: {error}", err=True)
        return self._module_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self._from_modules()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = self.commands.get(cmd_name)
        return found if found is not None else self._from_modules().get(cmd_name)


def _load_module_commands(taken: set[str]) -> dict[str, click.Command]:
    from kernel.assembly import module_commands
    from kernel.errors import ModuleError
    from kernel.modules import ModulesSettings

    found: dict[str, click.Command] = {}
    path = ModulesSettings().modules_path
    for module, command in module_commands(path):
        if not isinstance(command, click.Command) or command.name is None:
            raise ModuleError(f"module {module!r}: webos_cli_commands must return click commands")
        if command.name in taken or command.name in found:
            raise ModuleError(f"module {module!r} adds the command {command.name!r}, taken already")
        found[command.name] = command
    return found
