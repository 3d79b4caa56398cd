"""The ``ui.py`` convention and the catalog it fills: every module's console contributions.

The catalog lives in the :class:`CatalogSubsystem` of a kernel (in the gateway, the console
subsystem, which extends it). Modules of this process are collected by the convention in phase
three; the gateway adds modules running elsewhere by importing their ``ui.py`` (declarations
only: importing a convention file has no side effects). This part of the console loads no
templates: module processes run it too, for the guard on contributed URLs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from litestar.di import Provide
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.types import Scope

from kernel.auth import Principal, add_app_guard, has_permission, principal_in
from kernel.console._contrib import (
    App,
    Command,
    Contribution,
    PageSlot,
    SlotItem,
    Widget,
    declared_contributions,
)
from kernel.contracts import Host
from kernel.modules import LoadedModule, route_handlers_in

if TYPE_CHECKING:
    from litestar.config.app import AppConfig

C = TypeVar("C", bound=Contribution)


@dataclass(frozen=True)
class Entry:
    """One contribution of one module, with the URLs the console uses for it."""

    module: str
    item: Contribution

    def api(self, path: str) -> str:
        return f"/api/{self.module}{path}"

    @property
    def href(self) -> str:
        """Where the shell shows it (apps), or where a link goes (sidebar/header links)."""
        item = self.item
        if isinstance(item, App):
            return f"/console/apps/{self.module}/{item.name}"
        if isinstance(item, Command) and item.goto:
            return item.goto
        if isinstance(item, Command | SlotItem | Widget) and getattr(item, "url", None):
            return self.api(item.url)  # type: ignore[arg-type]
        return "/console"

    @property
    def key(self) -> str:
        return f"{self.module}.{self.item.name}"


@dataclass
class Catalog:
    """Contributions by module, and the permission each contributed URL needs."""

    entries: list[Entry] = field(default_factory=list)
    _guarded: dict[str, str] = field(default_factory=dict)
    _starts: tuple[str, ...] = ()  # the guarded URLs, for one C call on every request

    def add(self, module: str, items: Iterable[Contribution]) -> None:
        seen = {(type(e.item), e.item.name) for e in self.entries if e.module == module}
        for item in items:
            kind = (type(item), item.name)
            if kind in seen:
                raise ValueError(f"ui.py declares two {type(item).__name__}s named {item.name!r}")
            seen.add(kind)
            entry = Entry(module, item)
            self.entries.append(entry)
            if item.permission:
                for url in item.urls():
                    self._guarded[entry.api(url)] = item.permission
                self._starts = tuple(self._guarded)

    def modules(self) -> set[str]:
        return {entry.module for entry in self.entries}

    def of(self, kind: type[C], principal: Principal | None = None) -> list[Entry]:
        found = [
            entry
            for entry in self.entries
            if isinstance(entry.item, kind)
            and (principal is None or entry.item.visible_to(principal))
        ]
        return sorted(found, key=lambda e: (getattr(e.item, "order", 100), e.item.title))

    def app(self, module: str, name: str) -> Entry | None:
        for entry in self.entries:
            if entry.module == module and isinstance(entry.item, App) and entry.item.name == name:
                return entry
        return None

    def slot(self, slot: str, principal: Principal) -> list[Entry]:
        return [e for e in self.of(SlotItem, principal) if e.item.slot == slot]  # type: ignore[attr-defined]

    def page_slots(self) -> set[str]:
        return {f"{e.module}.{e.item.name}" for e in self.of(PageSlot)}

    def permission_for(self, path: str) -> str | None:
        """The permission a contributed URL (or a page below an app's route) needs."""
        if not path.startswith(self._starts):  # most requests: below no contributed URL
            return None
        path = path.rstrip("/") or "/"
        while path:
            if path in self._guarded:
                return self._guarded[path]
            path = path.rpartition("/")[0]
        return None

    def guard(self, scope: Scope, _: BaseRouteHandler) -> None:
        """App-wide check (``kernel.auth.add_app_guard``): a contributed URL answers 403 to
        callers lacking its permission."""
        needed = self.permission_for(scope.get("root_path", "") + scope["path"])
        if needed is None:
            return
        principal = principal_in(scope)
        if principal.is_authenticated and not has_permission(principal, needed):
            raise PermissionDeniedException(f"missing permission {needed}")


def ui_handlers(source: ModuleType) -> list[Any]:
    """Route handlers ``ui.py`` defines for its fragments (mounted under ``/api/<module>``)."""
    return route_handlers_in(source)


class CatalogSubsystem:
    """Holds the catalog; in every process with modules' routes, contributed URLs are guarded
    by the permission their contribution names, and handlers may take ``catalog: Catalog``."""

    name = "console"

    def __init__(self) -> None:
        self.catalog = Catalog()

    def configure_app(self, app_config: AppConfig, host: Host) -> AppConfig:
        add_app_guard(app_config, self.catalog.guard)
        catalog = self.catalog
        app_config.dependencies["catalog"] = Provide(lambda: catalog, sync_to_thread=False)
        return app_config

    async def start(self, host: Host) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def check(self) -> str | None:
        return None


class UiConvention:
    """``ui.py``: console contributions, plus the route handlers that render their fragments."""

    stem = "ui"

    def collect(self, module: LoadedModule, source: ModuleType, host: Host) -> None:
        items = declared_contributions(source)
        console = host.find(CatalogSubsystem)
        if console is not None:
            console.catalog.add(module.name, items)
        module.route_handlers.extend(ui_handlers(source))


__all__ = ["Catalog", "CatalogSubsystem", "Entry", "UiConvention", "ui_handlers"]
