"""The shell's own pages: the dashboard, module apps, and slots filled by modules."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath

from kernel.auth import CurrentPrincipal
from kernel.bus import Bus, list_dead_letters
from kernel.console._catalog import Catalog
from kernel.console._contrib import SYSTEM_READ, App
from kernel.console._shell import HOME, allowed, html, page, render, widgets
from kernel.nodes import NodeTable
from kernel.transport import stream_status

#: Handlers take the catalog as ``catalog: Catalog`` (provided by the console subsystem).
Catalogue = NamedDependency[Catalog]


@get("/", include_in_schema=False)
async def dashboard(
    request: Request[Any, Any, Any], catalog: Catalogue, principal: CurrentPrincipal
) -> Response[str]:
    """Home: built-in summary cards and every module's dashboard widgets."""
    return page(
        request,
        catalog,
        principal,
        "dashboard.html",
        title=HOME.title,
        active=HOME.key,
        widgets=widgets(catalog, principal),
        system=allowed(principal, SYSTEM_READ),
    )


@get("/apps/{module:str}/{name:str}", include_in_schema=False)
async def app_page(
    request: Request[Any, Any, Any],
    catalog: Catalogue,
    principal: CurrentPrincipal,
    module: FromPath[str],
    name: FromPath[str],
) -> Response[str]:
    """A module's app: the shell around its fragment, loaded from the module's route."""
    entry = catalog.app(module, name)
    if entry is None:
        raise NotFoundException(f"no console app {module}/{name}")
    app: App = entry.item  # type: ignore[assignment]
    if not app.visible_to(principal):
        raise PermissionDeniedException(f"missing permission {app.permission}")
    return page(
        request,
        catalog,
        principal,
        "app.html",
        title=app.title,
        active=entry.href,
        app=app,
        module=module,
        # The page's query reaches the fragment, so a link can open an app on one record.
        fragment=entry.api(app.route) + (f"?{request.url.query}" if request.url.query else ""),
    )


@get("/slots/{slot:str}", include_in_schema=False)
async def slot_fragment(
    catalog: Catalogue, principal: CurrentPrincipal, slot: FromPath[str]
) -> Response[str]:
    """What modules put in a slot (the caller sees only what it may)."""
    items = [
        {"title": e.item.title, "url": e.api(e.item.url), "kind": e.item.kind, "module": e.module}  # type: ignore[attr-defined]
        for e in catalog.slot(slot, principal)
    ]
    return html(render("slot.html", slot=slot, items=items))


@get("/dashboard/summary", include_in_schema=False, opt={"console_permission": SYSTEM_READ})
async def summary(
    bus: NamedDependency[Bus], node_table: NamedDependency[NodeTable]
) -> Response[str]:
    """The built-in dashboard card: nodes, modules, bus counters, each handler's drops and
    backlog, dead letters, the kernel's streams (copies, leader, lag)."""
    error = None
    letters = 0
    streams: list[dict[str, Any]] = []
    nodes = node_table.nodes()
    try:
        js = bus.nats.jetstream()
        letters = len(await list_dead_letters(js, limit=1000))
        streams = await stream_status(js)
    except Exception as problem:  # shown on the card, not raised: the dashboard stays usable
        error = f"{type(problem).__name__}: {problem}"
    return html(
        render(
            "summary.html",
            nodes=nodes,
            modules=sorted({m.name for n in nodes for m in n.modules}),
            bus=bus.stats(),
            letters=letters,
            streams=streams,
            error=error,
        )
    )


page_handlers = [dashboard, app_page, slot_fragment, summary]
