"""The web console: the shell at ``/console`` and what modules contribute to it in ``ui.py``.

A module's ``ui.py`` declares ``App``, ``Widget``, ``SlotItem``, ``PageSlot`` and ``Command``
objects at module level and may define the route handlers that render their HTML fragments
(mounted under ``/api/<module>`` like ``router.py``'s). ``fragment()`` wraps HTML for them.
See ``docs/console.md``. The shell (templates, pages) loads only in the gateway
(:class:`ConsoleSubsystem`); module processes run the catalog alone (:class:`CatalogSubsystem`).
"""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from markupsafe import Markup, escape

    from kernel.console._catalog import Catalog, CatalogSubsystem, Entry, UiConvention
    from kernel.console._contrib import (
        CONSOLE_VIEW,
        DLQ_REPLAY,
        SHELL_SLOTS,
        SYSTEM_READ,
        App,
        Command,
        Contribution,
        PageSlot,
        PaletteSource,
        SlotItem,
        Widget,
        declared_contributions,
    )
    from kernel.console._fragments import fragment
    from kernel.console._subsystem import ConsoleSubsystem

__getattr__ = lazy_exports(__name__)
__all__ = [
    "CONSOLE_VIEW",
    "DLQ_REPLAY",
    "SHELL_SLOTS",
    "SYSTEM_READ",
    "App",
    "Catalog",
    "CatalogSubsystem",
    "Command",
    "ConsoleSubsystem",
    "Contribution",
    "Entry",
    "Markup",
    "PageSlot",
    "PaletteSource",
    "SlotItem",
    "UiConvention",
    "Widget",
    "declared_contributions",
    "escape",
    "fragment",
]
