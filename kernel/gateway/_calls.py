"""``POST /api/system/services/{service}/{method}``: call any service as the request's caller.

What ``webos call --as API_KEY`` uses: the gateway authenticates the key like any other request,
checks ``services.call``, and calls the service over NATS with the identity it signs for that
caller, so a service's own ``require_permission`` judges the key's owner, and the command line
needs no signing key. The body is the arguments object; the serving side validates it.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from litestar import Response, Router, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from kernel.auth import CurrentPrincipal, requires
from kernel.bus import Bus
from kernel.contracts import Instances
from kernel.problems import problem
from kernel.registry import (
    Registry,
    RemoteServiceError,
    ServiceArgumentsRejected,
    call_service,
    departure,
)

log = logging.getLogger("webos.gateway")
#: The longest a caller may ask the gateway to wait for one call, in seconds.
MAX_CALL_TIMEOUT = 300.0
#: Who may call services by name from outside.
CALL_PERMISSION = "services.call"


@post("/{service:str}/{method:str}", status_code=200)
async def call(
    service: FromPath[str],
    method: FromPath[str],
    data: JSONBody[dict[str, Any]],
    principal: CurrentPrincipal,
    bus: NamedDependency[Bus],
    registry: NamedDependency[Registry],
    instances: NamedDependency[Instances | None],
    request_timeout: NamedDependency[float],
    timeout: Annotated[float | None, QueryParameter(gt=0, le=MAX_CALL_TIMEOUT)] = None,
) -> Response[Any]:
    """The method's result as ``{"result": ...}``; its error as a problem document naming the
    remote type (400 for arguments it refused, 502 for what it raised); 503 when nothing serves
    it in time (at once when no live node runs its module), 404 for a method the service
    lacks. ``?timeout=`` seconds (default WEBOS_REQUEST_TIMEOUT), within the request's deadline."""
    log.info("service call %s.%s by %s %s", service, method, principal.kind, principal.id)
    try:
        result = await call_service(
            bus.nats,
            service,
            method,
            data,
            timeout=timeout or request_timeout,
            propagation=bus.propagation,
            gone=departure(registry, instances, service, method),
        )
    except RemoteServiceError as error:
        status = 400 if isinstance(error, ServiceArgumentsRejected) else 502
        return problem(
            status, error.message, remote_type=error.remote_type, service=service, method=method
        )
    return Response({"result": result})


calls_router = Router(
    "/api/system/services",
    route_handlers=[call],
    tags=["system"],
    guards=[requires(CALL_PERMISSION)],
)
