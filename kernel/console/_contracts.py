"""The Catalog view: every subject of the system, who emits it and who handles it.

The contracts come from the code of every discovered module, those running in other processes
included (``kernel.asyncapi.system_contracts``: importing convention files reads their
declarations only). Modules are loaded once per kernel, so the contracts are built once, on the
first visit, and kept. Subjects and descriptions come from module code: everything is escaped
(the templates autoescape; the SVG is built with ``escape``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from kernel.asyncapi import SystemContracts, example_payload
from kernel.auth import CurrentPrincipal
from kernel.console._contrib import SYSTEM_READ
from kernel.console._graph import contracts_svg
from kernel.console._pages import Catalogue
from kernel.console._shell import html, page, render
from kernel.errors import WebOSError

READ = {"console_permission": SYSTEM_READ}


class ContractsCache:
    """The system's contracts, built on first use: the gateway's catalog (``build``), or from
    the modules discovered then."""

    def __init__(self, build: Callable[[], SystemContracts]) -> None:
        self._build = build
        self._built: SystemContracts | None = None
        self._error: str | None = None

    def get(self) -> SystemContracts:
        """The contracts; raises ``ContractsUnavailable`` if a module's code cannot be read
        (the same module code gives the same failure, so the failure is kept too)."""
        if self._built is None and self._error is None:
            try:
                self._built = self._build()
            except Exception as problem:  # a module's broken file: shown in the view, named
                self._error = f"{type(problem).__name__}: {problem}"
        if self._built is None:
            raise ContractsUnavailable(self._error or "no contracts")
        return self._built

    def subjects(self) -> list[str]:
        """Every subject, sorted; none while the contracts cannot be built (the Catalog view
        shows why)."""
        try:
            return sorted(self.get().channels)
        except ContractsUnavailable:
            return []


class ContractsUnavailable(WebOSError):
    """The contracts could not be built (the message says which module and why)."""

    http_status = 503


def subject_href(subject: str) -> str:
    return f"/console/catalog?subject={quote(subject, safe='')}"


def detail_href(subject: str) -> str:
    return f"/console/catalog/subject?subject={quote(subject, safe='')}"


def watch_href(subject: str) -> str:
    return f"/console/events?subject={quote(subject, safe='')}"


def _problem(detail: str) -> Response[str]:
    return html(render("error.html", detail=f"The catalog cannot be built. {detail}"))


@get("/catalog", include_in_schema=False, opt=READ)
async def catalog_page(
    request: Request[Any, Any, Any],
    catalog: Catalogue,
    principal: CurrentPrincipal,
    subject: FromQuery[str | None] = None,
) -> Response[str]:
    return page(
        request,
        catalog,
        principal,
        "catalog.html",
        title="Catalog",
        active="catalog",
        subject=subject,
        detail_url=None if subject is None else detail_href(subject),
        graph_url="/console/catalog/graph"
        + ("" if subject is None else f"?subject={quote(subject, safe='')}"),
    )


@get("/catalog/graph", include_in_schema=False, opt=READ)
async def catalog_graph(
    contracts: NamedDependency[ContractsCache], subject: FromQuery[str | None] = None
) -> Response[str]:
    """The picture (``subject``, the one shown in detail, marked) and, for keyboards and screen
    readers, the same as a table."""
    try:
        built = contracts.get()
    except ContractsUnavailable as problem:
        return _problem(str(problem))
    channels = [built.channels[s] for s in sorted(built.channels)]
    return html(
        render(
            "catalog_graph.html",
            svg=contracts_svg(built, subject_href, subject),
            channels=channels,
            href=subject_href,
            modules=built.modules,
        )
    )


@get("/catalog/subject", include_in_schema=False, opt=READ)
async def catalog_subject(
    contracts: NamedDependency[ContractsCache], subject: FromQuery[str]
) -> Response[str]:
    """One subject: description, schema, an example payload, producers and consumers."""
    try:
        built = contracts.get()
    except ContractsUnavailable as problem:
        return _problem(str(problem))
    channel = built.channels.get(subject)
    if channel is None:
        known = ", ".join(sorted(built.channels)) or "none"
        detail = f"No subject {subject!r} in the catalog. Known subjects: {known}."
        return html(render("error.html", detail=detail), status_code=404)
    return html(
        render(
            "catalog_subject.html",
            channel=channel,
            example=example_payload(channel.schema),
            watch=watch_href(subject),
        )
    )


contracts_handlers = [catalog_page, catalog_graph, catalog_subject]
