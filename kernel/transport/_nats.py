"""The one first import of nats-py, without aiohttp unless a websocket URL needs it.

nats-py's transport module imports aiohttp (about 10 MB resident, a third of a second to load)
for one purpose: ``ws://`` and ``wss://`` servers. It already copes with aiohttp missing (its
``try: import aiohttp except ImportError: aiohttp = None``, and its websocket transport raises a
clear ImportError when used without it). :func:`import_nats` imports nats-py with aiohttp
hidden for that one import, then un-hides it, so user code can still ``import aiohttp``.
:func:`websocket_transport` puts aiohttp back into nats-py before a websocket URL is used
(``nats_servers`` calls it for every ``ws://`` / ``wss://`` setting).

``kernel/__init__.py`` calls :func:`import_nats` before anything else, so every ``import nats``
in the kernel, FastStream's included, meets the already imported package.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

_HIDDEN = "aiohttp"


def import_nats() -> ModuleType:
    """nats-py, imported without aiohttp the first time (see the module docstring)."""
    if "nats" in sys.modules or _HIDDEN in sys.modules:
        # Already imported (with or without aiohttp), or aiohttp is loaded anyway: nothing saved.
        return importlib.import_module("nats")
    sys.modules[_HIDDEN] = None  # type: ignore[assignment]  # makes ``import aiohttp`` raise
    try:
        importlib.import_module("nats.aio.transport")
        return importlib.import_module("nats")
    finally:
        if sys.modules.get(_HIDDEN, _HIDDEN) is None:
            del sys.modules[_HIDDEN]


def websocket_transport() -> None:
    """Give nats-py aiohttp for a ``ws://`` / ``wss://`` server, if :func:`import_nats` hid it."""
    transport = importlib.import_module("nats.aio.transport")
    if transport.aiohttp is None:
        # Not installed at all: nats-py's own ImportError says what to install when it connects.
        try:
            found = {name: importlib.import_module(name) for name in ("aiohttp", "multidict")}
        except ImportError:
            return
        vars(transport).update(found)


__all__ = ["import_nats", "websocket_transport"]
