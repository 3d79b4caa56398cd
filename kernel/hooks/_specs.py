"""The markers of WebOS hooks. Each extension point's specs live with the package that calls it
(``kernel.modules.ModuleHookSpecs``, ``kernel.storage.StorageHookSpecs``, ...), the way pluggy
plugins declare their own hookspecs; a kernel's preset lists them all."""

from __future__ import annotations

import pluggy

PROJECT = "webos"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
