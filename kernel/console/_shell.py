"""Rendering the shell: the Jinja environment, the sidebar, the palette entries, page responses."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from litestar import Request, Response
from markupsafe import Markup

from kernel.auth import Principal, has_permission
from kernel.console._contrib import (
    FILES_READ,
    SYSTEM_READ,
    App,
    Command,
    PaletteSource,
    Widget,
)
from kernel.livesettings import MODULES_STATE
from kernel.livesettings import READ as SETTINGS_READ

if TYPE_CHECKING:
    from jinja2 import Environment

    from kernel.console._catalog import Catalog
    from kernel.explorer import Explorer

PRODUCT = "WebOS"
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Page:
    """A page of the console itself (dashboard and system views)."""

    key: str
    title: str
    href: str
    icon: str
    permission: str | None
    description: str


SYSTEM_PAGES = (
    Page("nodes", "Nodes", "/console/nodes", "⬢", SYSTEM_READ, "Live processes and modules"),
    Page("events", "Events", "/console/events", "⚡", SYSTEM_READ, "Live stream from the bus"),
    Page("services", "Services", "/console/services", "⚙", SYSTEM_READ, "What each node offers"),
    Page(
        "catalog",
        "Catalog",
        "/console/catalog",
        "☷",
        SYSTEM_READ,
        "Subjects, producers, consumers",
    ),
    Page("tasks", "Tasks", "/console/tasks", "↻", SYSTEM_READ, "Background tasks and progress"),
    Page("dlq", "Dead letters", "/console/dlq", "✉", SYSTEM_READ, "Events handlers gave up on"),
    Page("storage", "Storage", "/console/storage", "▦", FILES_READ, "Browse, upload, download"),
    Page("settings", "Settings", "/console/settings", "✎", SETTINGS_READ, "Live module settings"),
    # Open to every console user: the page lists only the models one may read.
    Page("data", "Data", "/console/data", "⛁", None, "Every module's documents"),
)
HOME = Page("home", "Dashboard", "/console", "⌂", None, "Widgets of every module")
#: Every user's own tasks: in the palette and behind the header's indicator, not the sidebar.
MY_TASKS = Page(
    "mytasks", "My tasks", "/console/tasks/mine", "↻", None, "Your background tasks, with progress"
)


@cache
def environment() -> Environment:
    # Jinja loads with the first page rendered: a gateway nobody opens the console of never does.
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("kernel.console", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ago"] = ago
    env.filters["pretty"] = pretty
    return env


def ago(timestamp: float | None) -> str:
    if not timestamp:
        return "never"
    seconds = max(0.0, time.time() - timestamp)
    if seconds < 60:
        return f"{seconds:.1f}s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def pretty(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def html(body: str, status_code: int = 200, **kwargs: Any) -> Response[str]:
    return Response(body, status_code=status_code, media_type=HTML, **kwargs)


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def allowed(principal: Principal, permission: str | None) -> bool:
    return permission is None or has_permission(principal, permission)


def navigation(catalog: Catalog, principal: Principal) -> dict[str, Any]:
    """What the sidebar and the palette show this principal."""
    apps = [
        {
            "title": e.item.title,
            "href": e.href,
            "icon": e.item.icon,  # type: ignore[attr-defined]
            "description": e.item.description or f"{e.module} app",  # type: ignore[attr-defined]
            "module": e.module,
        }
        for e in catalog.of(App, principal)
    ]
    links = [
        {"title": e.item.title, "href": e.href, "module": e.module}
        for e in catalog.slot("sidebar", principal)
        if e.item.kind == "link"  # type: ignore[attr-defined]
    ]
    system = [page for page in SYSTEM_PAGES if allowed(principal, page.permission)]
    palette: list[dict[str, Any]] = [
        {"kind": "page", "title": HOME.title, "href": HOME.href, "hint": HOME.description}
    ]
    palette += [
        {"kind": "app", "title": a["title"], "href": a["href"], "hint": a["description"]}
        for a in apps
    ]
    palette += [
        {"kind": "page", "title": p.title, "href": p.href, "hint": p.description}
        for p in (*system, MY_TASKS)
    ]
    palette += [
        {"kind": "link", "title": link["title"], "href": link["href"], "hint": link["module"]}
        for link in links
    ]
    for e in catalog.of(Command, principal):
        command: Command = e.item  # type: ignore[assignment]
        palette.append(
            {
                "kind": "command",
                "title": command.title,
                "hint": " ".join(dict.fromkeys((e.module, *command.keywords))),
                **(
                    {"href": command.goto}
                    if command.goto
                    else {"run": e.api(command.url or "/"), "confirm": command.confirm}
                ),
            }
        )
    sources = [e.api(e.item.url) for e in catalog.of(PaletteSource, principal)]  # type: ignore[attr-defined]
    return {
        "apps": apps,
        "links": links,
        "system": system,
        "palette": palette,
        "sources": sources,
    }


def widgets(catalog: Catalog, principal: Principal) -> list[dict[str, Any]]:
    found = []
    for e in catalog.of(Widget, principal):
        widget: Widget = e.item  # type: ignore[assignment]
        found.append(
            {
                "title": widget.title,
                "url": e.api(widget.url),
                "size": widget.size,
                "refresh": widget.refresh,
                "module": e.module,
            }
        )
    for e in catalog.slot("dashboard", principal):
        found.append(
            {
                "title": e.item.title,
                "url": e.api(e.item.url),  # type: ignore[attr-defined]
                "size": "small",
                "refresh": None,
                "module": e.module,
            }
        )
    return found


def subject_entries(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    """Palette entries that open each subject of the Catalog (``webos_console_subjects`` in the
    app's state lists them; absent in apps without the Catalog)."""
    subjects: Callable[[], list[str]] | None = request.app.state.get("webos_console_subjects")
    return [
        {
            "kind": "page",
            "title": f"Catalog: {subject}",
            "href": f"/console/catalog?subject={quote(subject, safe='')}",
            "hint": "Open the catalog of this subject",
        }
        for subject in (subjects() if subjects is not None else [])
    ]


def settings_entries(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    """ "Edit settings of <module>" for each module with a ``settings.py`` model."""
    modules: Callable[[], list[str]] | None = request.app.state.get(MODULES_STATE)
    return [
        {
            "kind": "command",
            "title": f"Edit settings of {name}",
            "href": f"/console/settings/{quote(name, safe='')}",
            "hint": "settings live",
        }
        for name in (modules() if modules is not None else [])
    ]


def model_entries(request: Request[Any, Any, Any], principal: Principal) -> list[dict[str, Any]]:
    """Palette entries opening each model this principal may read ("Open contacts.contact");
    ``webos_explorer`` in the app's state is the explorer (absent in apps without one)."""
    explorer: Explorer | None = request.app.state.get("webos_explorer")
    return [
        {
            "kind": "page",
            "title": f"Open {view.key}",
            "href": f"/console/data/{view.module}/{view.name}",
            "hint": f"{view.title} records in the data explorer",
        }
        for view in (explorer.readable(principal) if explorer is not None else [])
    ]


def page(
    request: Request[Any, Any, Any],
    catalog: Catalog,
    principal: Principal,
    template: str,
    *,
    title: str,
    active: str,
    status_code: int = 200,
    **context: Any,
) -> Response[str]:
    """A full shell page (header, sidebar, palette) around ``template``."""
    nav = navigation(catalog, principal)
    if allowed(principal, SYSTEM_READ):
        nav["palette"] += subject_entries(request)
    if allowed(principal, SETTINGS_READ):
        nav["palette"] += settings_entries(request)
    nav["palette"] += model_entries(request, principal)
    header_items = [
        {"title": e.item.title, "href": e.href, "url": e.href, "kind": e.item.kind}  # type: ignore[attr-defined]
        for e in catalog.slot("header", principal)
    ]
    body = render(
        template,
        product=PRODUCT,
        title=title,
        active=active,
        principal=principal,
        nav=nav,
        home=HOME,
        header_items=header_items,
        palette_json=Markup(json.dumps(nav["palette"]).replace("</", "<\\/")),
        palette_sources=" ".join(nav["sources"]),
        **context,
    )
    return html(body, status_code=status_code)
