"""Reading and saving a module's settings: the one path of the HTTP routes, the console and
``webos settings``. Every save is validated by the module's own model first, written only if
nobody saved meanwhile, and announced as ``webos.settings.updated`` (the module, the changed
field names and who; never a value, some are secret)."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from kernel.errors import WebOSError
from kernel.livesettings._fields import describe, from_environment, merge
from kernel.livesettings._store import SettingsChangedMeanwhile, SettingsStore
from kernel.modules import (
    SETTINGS_ENVIRONMENT,
    ModuleSet,
    ModuleSettings,
    ModuleSpec,
    settings_class_in,
)

UPDATED = "webos.settings.updated"
#: ``(subject, payload) -> event id``
Announce = Callable[[str, dict[str, Any]], Awaitable[Any]]


class NoSuchSettings(WebOSError):
    """The module is not installed, or has no ``settings.py`` model."""

    http_status = 404


def settings_classes(specs: Iterable[ModuleSpec]) -> dict[str, type[ModuleSettings]]:
    """Each module's ``ModuleSettings`` class, from its ``settings.py`` (imported, never run:
    a convention file has no import-time effects)."""
    found: dict[str, type[ModuleSettings]] = {}
    for spec in specs:
        qualified = f"{spec.package}.settings"
        if importlib.util.find_spec(qualified) is None:
            continue
        cls = settings_class_in(importlib.import_module(qualified))
        if cls is not None:
            found[spec.name] = cls
    return dict(sorted(found.items()))


#: What the environment sets per module: ``module -> {field: value}``.
Environments = dict[str, dict[str, Any]]


def classes_of(modules: ModuleSet) -> tuple[dict[str, type[ModuleSettings]], Environments]:
    """The classes of modules running here (as loaded, with the environment they loaded with)
    and elsewhere (imported; the environment as this process sees it now)."""
    found = settings_classes(modules.elsewhere.values())
    environments = {name: from_environment(cls, name) for name, cls in found.items()}
    for name, module in modules.running.items():
        if module.context.settings is not None:
            found[name] = type(module.context.settings)
            environments[name] = module.extras.get(SETTINGS_ENVIRONMENT, {})
    return dict(sorted(found.items())), environments


class SettingsEditor:
    """Every module's saved settings, as an operator sees and changes them."""

    def __init__(
        self,
        store: SettingsStore,
        classes: dict[str, type[ModuleSettings]],
        announce: Announce,
        environments: Environments | None = None,
    ) -> None:
        self._store = store
        self._classes = classes
        self._announce = announce
        self._environments = environments or {
            name: from_environment(cls, name) for name, cls in classes.items()
        }

    def modules(self) -> list[str]:
        return list(self._classes)

    def _class(self, module: str) -> type[ModuleSettings]:
        try:
            return self._classes[module]
        except KeyError:
            known = ", ".join(self._classes) or "none"
            raise NoSuchSettings(
                f"module {module!r} has no settings (modules with settings: {known})"
            ) from None

    async def describe(self, module: str) -> dict[str, Any]:
        cls = self._class(module)
        saved = await self._store.read(module)
        environment = self._environments.get(module, {})
        fields = [view.as_dict() for view in describe(cls, module, saved.values, environment)]
        return {"module": module, "revision": saved.revision, "fields": fields}

    async def save(
        self, module: str, changes: dict[str, Any], by: str, *, after: int | None = None
    ) -> dict[str, Any]:
        """Validate and save ``changes``; ``after``: the revision the caller saw (a form), so a
        save made meanwhile is refused rather than silently overwritten."""
        cls = self._class(module)
        saved = await self._store.read(module)
        if after is not None and after != saved.revision:
            raise SettingsChangedMeanwhile(
                f"the settings of {module!r} were changed meanwhile; reload and try again"
            )
        values = merge(cls, module, saved.values, changes, self._environments.get(module, {}))
        fields = sorted(changes)
        revision = await self._store.write(module, values, by, fields, after=saved.revision)
        await self._announce(
            UPDATED, {"module": module, "fields": fields, "by": by, "revision": revision}
        )
        return await self.describe(module)

    async def history(self, module: str) -> list[dict[str, Any]]:
        self._class(module)
        return await self._store.history(module)
