"""What a module's ``ui.py`` declares for the console: apps, widgets, slot items, commands.

Each contribution is a small frozen pydantic model. Its URLs are paths under the module's own
routes (``/console`` in module ``greeter`` is ``/api/greeter/console``), so the same declaration
works when the module runs in the gateway and when the gateway forwards it to another process.

    app = App(name="greetings", title="Greetings", route="/console", icon="☺")
    widget = Widget(name="latest", title="Latest greetings", url="/console/widget")
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import ModuleType
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from kernel.auth import Principal, has_permission, is_valid_permission

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
_SLOT = re.compile(r"[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*")
#: Slots every console page has; modules declare more with ``PageSlot``.
SHELL_SLOTS = ("sidebar", "header", "dashboard")
#: Permissions of the console's own pages.
CONSOLE_VIEW = "console.view"
SYSTEM_READ = "system.read"
#: Watching the kernel's internal subjects (other people's requests and replies) in the console.
SYSTEM_ADMIN = "system.admin"
DLQ_REPLAY = "dlq.replay"
FILES_READ = "files.read"


class Contribution(BaseModel):
    """Base of everything ``ui.py`` declares: a name, a title and an optional permission."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Identifier, unique per kind within the module (a-z, 0-9, -, _).")
    title: str = Field(min_length=1, max_length=80, description="What people read.")
    permission: str | None = Field(
        None, description="Needed to see it and to call its URLs (e.g. 'greeter.read')."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(f"{value!r} is not a name: lowercase letters, digits, - and _")
        return value

    @field_validator("permission")
    @classmethod
    def _permission(cls, value: str | None) -> str | None:
        if value is not None and (not is_valid_permission(value) or "*" in value):
            raise ValueError(f"{value!r} is not a concrete permission such as 'greeter.read'")
        return value

    def visible_to(self, principal: Principal) -> bool:
        return self.permission is None or has_permission(principal, self.permission)

    def urls(self) -> tuple[str, ...]:
        """Module-relative paths this contribution serves (guarded by its permission)."""
        return ()


def _path(value: str) -> str:
    if not value.startswith("/") or value.startswith("//") or any(c in value for c in "?#\\ "):
        raise ValueError(f"{value!r}: a path under the module's routes, starting with '/'")
    return value


ModulePath = Annotated[str, AfterValidator(_path)]


class App(Contribution):
    """An entry in the sidebar that opens ``route`` (an HTML fragment) in the content area."""

    route: ModulePath = Field(description="Fragment rendered in the shell, e.g. '/console'.")
    icon: str = Field("▣", max_length=8, description="An emoji or a short symbol.")
    description: str = Field("", max_length=200)
    order: int = 100

    def urls(self) -> tuple[str, ...]:
        return (self.route,)


class Widget(Contribution):
    """A card on the dashboard (the ``dashboard`` slot) showing the fragment at ``url``."""

    url: ModulePath = Field(description="Fragment URL, e.g. '/console/widget'.")
    size: Literal["small", "medium", "large"] = "small"
    refresh: float | None = Field(None, ge=1, description="Reload every so many seconds.")
    order: int = 100

    def urls(self) -> tuple[str, ...]:
        return (self.url,)


class SlotItem(Contribution):
    """Fills a named slot: ``sidebar`` / ``header`` links, or a fragment in a page slot."""

    slot: str = Field(description="'sidebar', 'header', 'dashboard' or a PageSlot's name.")
    url: ModulePath = Field(
        description="Link target (kind 'link') or fragment URL (kind 'fragment')."
    )
    kind: Literal["link", "fragment"] = "fragment"
    order: int = 100

    @field_validator("slot")
    @classmethod
    def _slot(cls, value: str) -> str:
        if not _SLOT.fullmatch(value):
            raise ValueError(f"{value!r} is not a slot name such as 'sidebar' or 'shop.order'")
        return value

    def urls(self) -> tuple[str, ...]:
        return (self.url,)


class PageSlot(Contribution):
    """A place in one of this module's pages that other modules may fill with ``SlotItem``s.

    Its full name is ``<module>.<name>``; the page includes it with
    ``<div hx-get="/console/slots/<module>.<name>" hx-trigger="load"></div>``.
    """

    description: str = Field("", max_length=200)


class Command(Contribution):
    """A palette command: POST ``url`` (run) or go to ``goto`` (a console path)."""

    url: ModulePath | None = Field(None, description="Module route to POST to when run.")
    goto: str | None = Field(None, description="Console path to open, e.g. '/console/events'.")
    keywords: tuple[str, ...] = ()
    confirm: str | None = Field(None, max_length=200, description="Ask this before running.")

    @field_validator("goto")
    @classmethod
    def _goto(cls, value: str | None) -> str | None:
        if value is not None and not (value == "/console" or value.startswith("/console/")):
            raise ValueError(f"{value!r}: goto is a console path starting with '/console'")
        return value

    def model_post_init(self, _: Any) -> None:
        if (self.url is None) == (self.goto is None):
            raise ValueError(f"command {self.name!r}: give exactly one of url or goto")

    def urls(self) -> tuple[str, ...]:
        return (self.url,) if self.url else ()


class PaletteSource(Contribution):
    """Palette entries a module computes per request (one per user, per record...): the console
    GETs ``url`` when the palette first opens; it answers a JSON list of ``{"title", "href",
    "hint"}``, each ``href`` a console path (others are ignored)."""

    url: ModulePath = Field(description="JSON list of entries, e.g. '/console/palette'.")

    def urls(self) -> tuple[str, ...]:
        return (self.url,)


def declared_contributions(source: ModuleType) -> list[Contribution]:
    """Contributions ``ui.py`` declares at module level: one per name, or lists of them."""
    found: list[Contribution] = []
    for name, value in vars(source).items():
        if name.startswith("_"):
            continue
        found.extend(_contributions_in(value))
    return found


def _contributions_in(value: Any) -> Iterator[Contribution]:
    if isinstance(value, Contribution):
        yield value
    elif (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(item, Contribution) for item in value)
    ):
        yield from value
