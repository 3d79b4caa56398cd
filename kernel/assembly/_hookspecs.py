"""Every hook a module may implement, whatever the role: a module's ``hooks.py`` is the same file
in every process that loads it, so every kernel (and the ``webos`` command) knows every spec."""

from __future__ import annotations

from kernel.auth._hooks import SecurityHookSpecs
from kernel.modules._hooks import ModuleHookSpecs
from kernel.storage._hooks import StorageHookSpecs

HOOKSPECS: tuple[type, ...] = (ModuleHookSpecs, SecurityHookSpecs, StorageHookSpecs)
