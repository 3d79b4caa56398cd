"""The explorer's HTML fragments for the console, under ``/api/<module>/console/data/<model>``.

The console's Data view shows them in its shell (``/console/data/<module>/<model>``); the module's
own process renders them, so they work wherever the module runs. Forms post back here (htmx sends
the CSRF header); a refused record comes back as the same form with the message under each field.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath

from kernel.auth import CurrentPrincipal, Principal
from kernel.explorer._api import Explorable
from kernel.explorer._problems import BadQuery, InvalidRecord
from kernel.explorer._query import ListQuery, list_page
from kernel.explorer._views import ModelView
from kernel.explorer._writes import accepted, create, find_record, update
from kernel.explorer._writes import delete as delete_record
from kernel.modules import ModuleContext, ThisModule

if TYPE_CHECKING:
    from jinja2 import Environment

HTML = "text/html; charset=utf-8"
PAGE_SIZE = 25


@cache
def environment() -> Environment:
    # Loaded with the first fragment rendered: a process whose modules keep no documents (or
    # that only answers the API) never loads Jinja (tests/test_architecture.py checks it).
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("kernel.explorer", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["shown"] = _shown
    env.filters["editable"] = _editable
    return env


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _editable(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _html(template: str, **context: Any) -> Response[str]:
    body = environment().get_template(template).render(**context)
    return Response(body, media_type=HTML)


def _base(module: ModuleContext, view: ModelView) -> str:
    return f"/api/{module.name}/console/data/{view.name}"


@get("/console/data/{model:str}", include_in_schema=False)
async def list_fragment(
    request: Request[Any, Any, Any],
    module: ThisModule,
    explorer: Explorable,
    principal: CurrentPrincipal,
    model: FromPath[str],
) -> Response[str]:
    view = explorer.view(module.name, model, principal)
    params = dict(request.query_params)
    field, value = params.pop("_field", ""), params.pop("_value", "")
    if field:
        params[field] = value  # the filter form's pair, as the API spells it
    query = ListQuery.from_params(params, PAGE_SIZE)
    error, records, next_link = None, [], None
    try:
        page = await list_page(view, query)
        records = [view.public(record) for record in page.records]
        if page.next_cursor:
            next_link = urlencode({**_kept(query), "cursor": page.next_cursor})
    except BadQuery as problem:
        error = str(problem)

    def sort_link(column: str) -> str:
        order = f"-{column}" if query.sort == column else column
        return urlencode({**_kept(query), "sort": order})

    return _html(
        "list.html",
        view=view,
        base=_base(module, view),
        query=query,
        records=records,
        next_link=next_link,
        sort_link=sort_link,
        error=error,
        writable=view.can_write(principal),
    )


def _kept(query: ListQuery) -> dict[str, str]:
    kept = {"sort": query.sort, **query.filters}
    if query.search:
        kept["q"] = query.search
    return kept


@get("/console/data/{model:str}/new", include_in_schema=False)
async def new_form(
    module: ThisModule, explorer: Explorable, principal: CurrentPrincipal, model: FromPath[str]
) -> Response[str]:
    view = explorer.view(module.name, model, principal)
    view.require_write(principal)
    return _record(module, view, principal, {}, creating=True)


@post("/console/data/{model:str}", status_code=200, include_in_schema=False)
async def create_from_form(
    request: Request[Any, Any, Any],
    module: ThisModule,
    explorer: Explorable,
    principal: CurrentPrincipal,
    model: FromPath[str],
) -> Response[str]:
    view = explorer.view(module.name, model, principal)
    view.require_write(principal)
    sent = await _form(request)
    try:
        created = await create(view, accepted(view, sent, form=True), module, principal)
    except InvalidRecord as refused:
        return _record(module, view, principal, sent, creating=True, errors=refused.errors)
    notice = f"{view.title} created."
    return _record(module, view, principal, view.public(created), notice=notice)


@get("/console/data/{model:str}/{record:str}", include_in_schema=False)
async def record_fragment(
    module: ThisModule,
    explorer: Explorable,
    principal: CurrentPrincipal,
    model: FromPath[str],
    record: FromPath[str],
) -> Response[str]:
    view = explorer.view(module.name, model, principal)
    found = await find_record(view, record)
    return _record(module, view, principal, view.public(found))


@post("/console/data/{model:str}/{record:str}", status_code=200, include_in_schema=False)
async def update_from_form(
    request: Request[Any, Any, Any],
    module: ThisModule,
    explorer: Explorable,
    principal: CurrentPrincipal,
    model: FromPath[str],
    record: FromPath[str],
) -> Response[str]:
    view = explorer.view(module.name, model, principal)
    view.require_write(principal)
    found = await find_record(view, record)
    sent = await _form(request)
    try:
        changed = await update(view, found, accepted(view, sent, form=True), module, principal)
    except InvalidRecord as refused:
        shown = {**view.public(found), **sent}
        return _record(module, view, principal, shown, errors=refused.errors)
    return _record(module, view, principal, view.public(changed), notice="Saved.")


@post("/console/data/{model:str}/{record:str}/delete", status_code=200, include_in_schema=False)
async def delete_from_form(
    request: Request[Any, Any, Any],
    module: ThisModule,
    explorer: Explorable,
    principal: CurrentPrincipal,
    model: FromPath[str],
    record: FromPath[str],
) -> Response[str]:
    view = explorer.view(module.name, model, principal)
    view.require_write(principal)
    await delete_record(view, await find_record(view, record), module, principal)
    return await list_fragment.fn(request, module, explorer, principal, model)


def _record(
    module: ModuleContext,
    view: ModelView,
    principal: Principal,
    values: dict[str, Any],
    *,
    creating: bool = False,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response[str]:
    base = _base(module, view)
    return _html(
        "record.html",
        view=view,
        base=base,
        action=base if creating else f"{base}/{values['id']}",
        values=values,
        creating=creating,
        errors=errors or {},
        notice=notice,
        writable=view.can_write(principal),
    )


async def _form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    form = await request.form()
    return {key: form.get(key) for key in form}


html_handlers = [
    list_fragment,
    new_form,
    create_from_form,
    record_fragment,
    update_from_form,
    delete_from_form,
]
