"""nats-py without aiohttp, unless a websocket URL needs it.

nats-py's transport module imports aiohttp (about 10 MB resident, a third of a second to load)
for one purpose: ``ws://`` and ``wss://`` servers. It already copes with aiohttp missing (``try:
import aiohttp except ImportError: aiohttp = None``; its websocket transport raises a clear
ImportError when used without it).

:func:`nats_without_aiohttp` (``kernel/__init__.py`` calls it) registers an import hook and
imports nothing: whoever imports nats-py first, the kernel or FastStream, imports it with aiohttp
hidden, and the hook removes itself. aiohttp is hidden for that one import only, so user code can
still ``import aiohttp``. :func:`websocket_transport` gives nats-py aiohttp back before a websocket
URL is used (``nats_servers`` calls it for every ``ws://`` / ``wss://`` setting).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

_HIDDEN = "aiohttp"


class _HidingLoader(importlib.abc.Loader):
    """nats-py's own loader, run with ``import aiohttp`` failing."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        if _HIDDEN in sys.modules:  # imported meanwhile: hiding it saves nothing
            self._loader.exec_module(module)
            return
        sys.modules[_HIDDEN] = None  # type: ignore[assignment]  # ``import aiohttp`` raises
        try:
            self._loader.exec_module(module)
        finally:
            if sys.modules.get(_HIDDEN, _HIDDEN) is None:
                del sys.modules[_HIDDEN]

    def __getattr__(self, name: str) -> Any:  # resource readers and the like: nats-py's own
        return getattr(self._loader, name)


class _FirstNatsImport(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "nats":
            return None
        sys.meta_path.remove(self)  # once: the package's submodules load as usual
        spec = importlib.util.find_spec("nats")
        if spec is not None and spec.loader is not None and _HIDDEN not in sys.modules:
            spec.loader = _HidingLoader(spec.loader)
        return spec


def nats_without_aiohttp() -> None:
    """Have the first import of nats-py, whoever makes it, leave aiohttp out (module docstring)."""
    if "nats" in sys.modules or any(isinstance(f, _FirstNatsImport) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _FirstNatsImport())


def websocket_transport() -> None:
    """Give nats-py aiohttp for a ``ws://`` / ``wss://`` server, if its first import left it out."""
    transport = importlib.import_module("nats.aio.transport")
    if transport.aiohttp is None:
        # Not installed at all: nats-py's own ImportError says what to install when it connects.
        try:
            found = {name: importlib.import_module(name) for name in ("aiohttp", "multidict")}
        except ImportError:
            return
        vars(transport).update(found)


__all__ = ["nats_without_aiohttp", "websocket_transport"]
