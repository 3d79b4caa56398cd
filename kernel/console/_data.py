"""The Data view: every module's Documents the signed-in person may read (``kernel.explorer``).

The list of models comes from the gateway's explorer (which knows modules running elsewhere too);
a model's page is the shell around the explorer's fragment, rendered by the process that runs
the model's module (``/api/<module>/console/data/<model>``).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from kernel.auth import CurrentPrincipal
from kernel.console._pages import Catalogue
from kernel.console._shell import page
from kernel.explorer import Explorer, ModelNotFound

Explorable = NamedDependency[Explorer]


@get("/data", include_in_schema=False)
async def data_page(
    request: Request[Any, Any, Any],
    catalog: Catalogue,
    principal: CurrentPrincipal,
    explorer: Explorable,
) -> Response[str]:
    views = explorer.readable(principal)
    return page(request, catalog, principal, "data.html", title="Data", active="data", views=views)


@get("/data/{module:str}/{model:str}", include_in_schema=False)
async def model_page(
    request: Request[Any, Any, Any],
    catalog: Catalogue,
    principal: CurrentPrincipal,
    explorer: Explorable,
    module: FromPath[str],
    model: FromPath[str],
) -> Response[str]:
    try:
        view = explorer.view(module, model, principal)
    except ModelNotFound as missing:
        raise NotFoundException(str(missing)) from None
    return page(
        request,
        catalog,
        principal,
        "data_model.html",
        title=f"Data: {view.key}",
        active="data",
        view=view,
        fragment=f"/api/{view.module}/console/data/{view.name}",
    )


data_handlers = [data_page, model_page]
