"""Serving local services to other processes through the NATS services protocol (nats.micro).

Each module gets one micro service ``webos-<module>``, so ``$SRV.PING``/``$SRV.INFO``/
``$SRV.STATS`` and standard NATS tooling list, ping and count it; replicas share the load
through the queue group ``webos.svc.<service>``.

nats-py runs a subscription's callbacks one after another, so each call runs in a task of its
own (kept in the ``calls`` set the caller owns, to wait for on stop): awaiting the method in the
callback would make one slow call hold up every later call of that method on this replica, and
those would time out at their callers although the process is idle.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from nats.micro import add_service
from nats.micro.request import Request
from nats.micro.service import Service

from kernel.propagation import Propagation
from kernel.registry._remote import MethodContract, method_contracts, method_subject
from kernel.telemetry._metrics import attributes, instruments
from kernel.telemetry._spans import SpanKind, fail, received_span

log = logging.getLogger("webos.registry")


def _handler(
    instance: Any,
    service: str,
    contract: MethodContract,
    propagation: Propagation,
    calls: set[asyncio.Task[None]],
) -> Any:
    method = getattr(instance, contract.name)
    span_attributes = {"rpc.system": "nats", "rpc.service": service, "rpc.method": contract.name}

    async def handle(request: Request) -> None:
        started = time.perf_counter()
        # The caller's context (trace, identity, ...) is restored exactly as for an event handler.
        undo = propagation.extract(request.headers or {})
        try:
            with received_span(
                f"{service}/{contract.name}", SpanKind.SERVER, span_attributes
            ) as span:
                ok = await answer(request)
                if not ok:
                    fail(span, "the method raised")
        finally:
            undo()
        labels = attributes(
            service=service, method=contract.name, side="server", outcome="ok" if ok else "error"
        )
        meters = instruments()
        meters.remote_calls.add(1, labels)
        meters.remote_duration.record(time.perf_counter() - started, labels)

    async def answer(request: Request) -> bool:
        try:
            raw = json.loads(request.data or b"{}").get("args", {})
            result = await method(**contract.load_args(raw))
            body = {"result": contract.result.dump_python(result, mode="json")}
        except Exception as error:
            log.info(
                "remote call %s.%s raised %s: %s",
                service,
                contract.name,
                type(error).__name__,
                error,
            )
            body = {"error": {"type": type(error).__name__, "message": str(error)}}
            await request.respond_error(
                "500", f"{type(error).__name__}: {error}", json.dumps(body).encode()
            )
            return False
        await request.respond(json.dumps(body).encode())
        return True

    async def run(request: Request) -> None:
        try:
            await handle(request)
        except Exception:  # e.g. the connection closed before the answer went out
            log.exception("remote call %s.%s could not be answered", service, contract.name)

    async def dispatch(request: Request) -> None:
        task = asyncio.create_task(run(request))
        calls.add(task)
        task.add_done_callback(calls.discard)

    return dispatch


async def serve_module_services(
    nats: Any,
    module: str,
    version: str,
    services: dict[str, Any],
    *,
    strict: bool,
    calls: set[asyncio.Task[None]],
    propagation: Propagation,
) -> Service | None:
    """Expose ``services`` (name -> instance) of ``module``; None when it has none. Calls in
    progress are in ``calls``."""
    if not services:
        return None
    micro = await add_service(
        nats,
        name=f"webos-{module}",
        version=version if version.count(".") == 2 else "0.0.0",
        description=f"services of the WebOS module {module}",
        metadata={"module": module},
    )
    for name, instance in services.items():
        for contract in method_contracts(type(instance), strict=strict).values():
            await micro.add_endpoint(
                name=f"{name}-{contract.name}",
                subject=method_subject(name, contract.name),
                queue_group=f"webos.svc.{name}",
                handler=_handler(instance, name, contract, propagation, calls),
                metadata={"service": name, "method": contract.name},
            )
    return micro
