"""The explorer's JSON API, mounted under every module with Documents: ``/api/<module>/admin``.

Served by the process running the module (the gateway forwards it like the module's other
routes). Reading a model needs ``<module>.<model>.read``, changing it ``.write``.

    GET    /admin                       the models of this module the caller may read
    GET    /admin/{model}               a page: ?sort=-field&q=text&field=value&cursor=...&limit=
    POST   /admin/{model}               create (201), errors per field (422, 409)
    GET    /admin/{model}/{id}          one record
    PATCH  /admin/{model}/{id}          change the fields sent
    DELETE /admin/{model}/{id}          delete (204)
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import SerializationException
from litestar.params import FromPath, Parameter

from kernel.auth import CurrentPrincipal
from kernel.explorer._problems import InvalidRecord
from kernel.explorer._query import ListQuery, list_page
from kernel.explorer._views import Explorer
from kernel.explorer._writes import accepted, create, find_record, update
from kernel.explorer._writes import delete as delete_record
from kernel.modules import ThisModule

Explorable = NamedDependency[Explorer]
Limit = Annotated[int, Parameter(ge=1, le=500)]


@get("/admin", include_in_schema=False)
async def models(
    module: ThisModule, explorer: Explorable, principal: CurrentPrincipal
) -> list[dict[str, Any]]:
    views = [v for v in explorer.readable(principal) if v.module == module.name]
    return [view.describe(principal) for view in views]


@get("/admin/{model:str}", include_in_schema=False)
async def list_records(
    request: Request[Any, Any, Any],
    module: ThisModule,
    explorer: Explorable,
    principal: CurrentPrincipal,
    model: FromPath[str],
    limit: Limit = 50,
) -> dict[str, Any]:
    view = explorer.view(module.name, model, principal)
    page = await list_page(view, ListQuery.from_params(dict(request.query_params), limit))
    return {
        "records": [view.public(record) for record in page.records],
        "next_cursor": page.next_cursor,
        "columns": list(view.columns),
    }


@post("/admin/{model:str}", include_in_schema=False)
async def create_record(
    request: Request[Any, Any, Any],
    module: ThisModule,
    explorer: Explorable,
    principal: CurrentPrincipal,
    model: FromPath[str],
) -> dict[str, Any]:
    view = explorer.view(module.name, model, principal)
    view.require_write(principal)
    values = accepted(view, await _body(request), form=False)
    return view.public(await create(view, values, module, principal))


@get("/admin/{model:str}/{record:str}", include_in_schema=False)
async def read_record(
    module: ThisModule,
    explorer: Explorable,
    principal: CurrentPrincipal,
    model: FromPath[str],
    record: FromPath[str],
) -> dict[str, Any]:
    view = explorer.view(module.name, model, principal)
    return view.public(await find_record(view, record))


@patch("/admin/{model:str}/{record:str}", include_in_schema=False)
async def update_record(
    request: Request[Any, Any, Any],
    module: ThisModule,
    explorer: Explorable,
    principal: CurrentPrincipal,
    model: FromPath[str],
    record: FromPath[str],
) -> dict[str, Any]:
    view = explorer.view(module.name, model, principal)
    view.require_write(principal)
    values = accepted(view, await _body(request), form=False)
    found = await find_record(view, record)
    return view.public(await update(view, found, values, module, principal))


@delete("/admin/{model:str}/{record:str}", include_in_schema=False)
async def delete_one(
    module: ThisModule,
    explorer: Explorable,
    principal: CurrentPrincipal,
    model: FromPath[str],
    record: FromPath[str],
) -> None:
    view = explorer.view(module.name, model, principal)
    view.require_write(principal)
    await delete_record(view, await find_record(view, record), module, principal)


async def _body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    try:
        body = await request.json()
    except SerializationException:
        body = None
    if not isinstance(body, dict):
        raise InvalidRecord({"record": "send a JSON object of field values"})
    return body


api_handlers = [models, list_records, create_record, read_record, update_record, delete_one]
