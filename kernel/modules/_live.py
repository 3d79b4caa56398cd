"""What a module's ``settings.py`` declares for live settings: its class and its change hook.

Values saved at runtime (``kernel.livesettings``) replace ``module.settings`` in every process
running the module; a function of ``settings.py`` marked ``@on_settings_changed`` is then awaited
with the old and the new settings object. The marker only marks (pluggy's way); the settings
convention finds it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

from kernel.modules._context import ModuleSettings

#: ``async def changed(old, new) -> None``
SettingsChanged = Callable[[Any, Any], Awaitable[None]]
_MARK = "__webos_on_settings_changed__"


def on_settings_changed(function: SettingsChanged) -> SettingsChanged:
    """Mark ``async def f(old, new)`` in ``settings.py`` to be called after a live change."""
    if not inspect.iscoroutinefunction(function):
        raise TypeError(
            f"@on_settings_changed: {function.__qualname__} must be 'async def f(old, new)'"
        )
    if len(inspect.signature(function).parameters) != 2:
        raise TypeError(
            f"@on_settings_changed: {function.__qualname__} takes (old, new), the settings "
            "objects before and after the change"
        )
    setattr(function, _MARK, True)
    return function


def _defined_here(source: ModuleType) -> list[Any]:
    return [
        value
        for name, value in vars(source).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == source.__name__
    ]


def settings_class_in(source: ModuleType) -> type[ModuleSettings] | None:
    """The one ``ModuleSettings`` class ``settings.py`` defines (not imports), if any."""
    classes = [
        value
        for value in _defined_here(source)
        if inspect.isclass(value) and issubclass(value, ModuleSettings)
    ]
    if len(classes) > 1:
        names = ", ".join(cls.__name__ for cls in classes)
        raise TypeError(f"settings.py defines several ModuleSettings classes: {names}")
    return classes[0] if classes else None


def settings_changed_hook(source: ModuleType) -> SettingsChanged | None:
    """The ``@on_settings_changed`` function of ``settings.py`` (at most one)."""
    marked = [value for value in _defined_here(source) if getattr(value, _MARK, False)]
    if len(marked) > 1:
        names = ", ".join(value.__qualname__ for value in marked)
        raise TypeError(f"settings.py marks several functions @on_settings_changed: {names}")
    return marked[0] if marked else None
