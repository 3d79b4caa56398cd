"""The web console: the shell at ``/console`` and what modules contribute to it in ``ui.py``.

A module's ``ui.py`` declares ``App``, ``Widget``, ``SlotItem``, ``PageSlot`` and ``Command``
objects at module level and may define the route handlers that render their HTML fragments
(mounted under ``/api/<module>`` like ``router.py``'s). ``fragment()`` wraps HTML for them.
See ``docs/console.md``.
"""

from litestar import Response
from markupsafe import Markup, escape

from kernel.console._catalog import Catalog, Entry, UiConvention
from kernel.console._contrib import (
    SHELL_SLOTS,
    App,
    Command,
    Contribution,
    PageSlot,
    SlotItem,
    Widget,
    declared_contributions,
)
from kernel.console._shell import CONSOLE_VIEW, DLQ_REPLAY, SYSTEM_READ
from kernel.console._subsystem import ConsoleSubsystem


def fragment(body: str, status_code: int = 200) -> Response[str]:
    """An HTML fragment for the console (escape what you interpolate: ``escape(value)``)."""
    return Response(body, status_code=status_code, media_type="text/html; charset=utf-8")


__all__ = [
    "CONSOLE_VIEW",
    "DLQ_REPLAY",
    "SHELL_SLOTS",
    "SYSTEM_READ",
    "App",
    "Catalog",
    "Command",
    "ConsoleSubsystem",
    "Contribution",
    "Entry",
    "Markup",
    "PageSlot",
    "SlotItem",
    "UiConvention",
    "Widget",
    "declared_contributions",
    "escape",
    "fragment",
]
