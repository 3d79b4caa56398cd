"""Commands modules add to ``webos``: the ``webos_cli_commands`` hook of their ``hooks.py``."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kernel.assembly._hookspecs import HOOKSPECS
from kernel.hooks import call_module_hook_sync, new_plugin_manager, register_module_hooks
from kernel.modules import discover

log = logging.getLogger("webos.cli")


def module_commands(modules_path: Path) -> Iterator[tuple[str, Any]]:
    """``(module, command)`` for each command the modules under ``modules_path`` add.

    A module whose ``hooks.py`` cannot be imported is reported (``ModuleError`` names it and the
    error) rather than hiding the other modules' commands.
    """
    manager = new_plugin_manager(HOOKSPECS)
    for name, spec in discover(modules_path).modules.items():
        if "hooks" not in spec.files:
            continue
        source = importlib.import_module(f"{spec.package}.hooks")
        register_module_hooks(manager, name, source)
        for command in call_module_hook_sync(manager, "webos_cli_commands", name) or []:
            yield name, command
