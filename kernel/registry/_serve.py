"""Serving local services to other processes through the NATS services protocol (nats.micro).

Each module gets one micro service ``webos-<module>``, so ``$SRV.PING``/``$SRV.INFO``/
``$SRV.STATS`` and standard NATS tooling list, ping and count it; replicas share the load
through the queue group ``webos.svc.<service>``. Each instance also answers on subjects of its
own, ``webos.svc.<service>.<method>.@<node>`` (one subscription per service, no queue group),
where shard-keyed calls reach it (``_routing.py``). They are not endpoints of the micro
service, so ``$SRV.INFO`` lists each method once (the registry's metrics count both).

nats-py runs a subscription's callbacks one after another, so each call runs in a task of its
own (kept in the ``calls`` set the caller owns, to wait for on stop): awaiting the method in the
callback would make one slow call hold up every later call of that method on this replica, and
those would time out at their callers although the process is idle. The task is started as
nats-py reads the call (``kernel.transport.deliver_directly``), not through the subscription's
queue and task; each endpoint's ``$SRV.STATS`` counters are kept here instead of by nats.micro
(requests, and processing time now the call's own). The answer goes out through
``publish_block``, written with the iteration's other writes.

Every call gets one answer its caller can read: the result, the error the method raised, an
error saying the result is larger than the server accepts (sending it would make the server
close this process's connection), or, for a call cut off because the process is stopping, a 503
``ServiceUnavailable`` at once rather than a timeout later.

A call runs under its caller's deadline (the ``webos-deadline`` header, see
:mod:`kernel.propagation`) and is cancelled when it passes: the caller has stopped waiting by
then, so finishing would only hold this replica and whatever it calls in turn (those calls would
be refused anyway, having no time left). Its answer is a 504 ``DeadlineExceeded`` nobody reads
but the log and the trace.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from nats.aio.client import Client
from nats.micro import add_service
from nats.micro.request import Request
from nats.micro.service import Endpoint, Service

from kernel.context import time_left
from kernel.propagation import Propagation
from kernel.registry._arguments import (
    BAD_ARGUMENTS_CODE,
    BAD_ARGUMENTS_TYPE,
    InvalidServiceArguments,
    read_arguments,
)
from kernel.registry._catalog import contract_schemas
from kernel.registry._contracts import MethodContract, method_contracts
from kernel.registry._remote import DEADLINE_CODE, STOPPED_CODE
from kernel.registry._routing import instance_subjects
from kernel.registry._subjects import method_subject
from kernel.telemetry._metrics import attributes, instruments
from kernel.telemetry._spans import SpanKind, fail, received_span
from kernel.transport import PayloadTooLarge, check_size, deliver_directly, publish_block

log = logging.getLogger("webos.registry")
#: Characters of an error message an error answer carries (in its body and a header).
ERROR_MESSAGE_MAX = 2000


async def respond_error(request: Request, code: str, kind: str, message: str) -> None:
    """An error answer: ``{"error": {"type", "message"}}``, and the NATS services headers."""
    message = message[:ERROR_MESSAGE_MAX]
    body = json.dumps({"error": {"type": kind, "message": message}}).encode()
    await request.respond_error(code, f"{kind}: {message}", body)


async def respond(request: Request, body: bytes) -> None:
    """``request.respond(body)``, through :func:`publish_block` on a nats-py client."""
    message = request._msg
    client = message._client
    if not message.reply or not isinstance(client, Client):
        await request.respond(body)  # nats-py's own (and its error for a missing reply)
        return
    await publish_block(client, message.reply, body, None)


def _handler(
    instance: Any,
    service: str,
    contract: MethodContract,
    propagation: Propagation,
    calls: set[asyncio.Task[None]],
    nats: Any,
) -> Any:
    method = getattr(instance, contract.name)
    what = f"service call {service}.{contract.name}"
    span_attributes = {"rpc.system": "nats", "rpc.service": service, "rpc.method": contract.name}
    span_name = f"{service}/{contract.name}"
    labels = {
        ok: attributes(
            service=service, method=contract.name, side="server", outcome="ok" if ok else "error"
        )
        for ok in (True, False)
    }
    codec = contract.codec

    async def handle(request: Request) -> None:
        started = time.perf_counter()
        # The caller's context (trace, identity, ...) is restored exactly as for an event handler.
        undo = propagation.extract(request.headers or {}, awaited=True)
        try:
            with received_span(span_name, SpanKind.SERVER, span_attributes) as span:
                ok = await answer(request)
                if not ok:
                    fail(span, "the method raised")
        finally:
            undo()
        meters = instruments()
        meters.remote_calls.add(1, labels[ok])
        meters.remote_duration.record(time.perf_counter() - started, labels[ok])

    async def answer(request: Request) -> bool:
        left = time_left()
        bound = None if left is None else asyncio.timeout(left)
        try:
            arguments = read_arguments(contract, request.data)
        except InvalidServiceArguments as error:
            log.info("remote call %s.%s refused: %s", service, contract.name, error)
            await respond_error(request, BAD_ARGUMENTS_CODE, BAD_ARGUMENTS_TYPE, str(error))
            return False
        try:
            if bound is None:  # no deadline came with the call: nothing to bound
                result = await method(**arguments)
            else:
                async with bound:
                    result = await method(**arguments)
            body = codec.encode_result(result)
        except Exception as error:
            if bound is not None and bound.expired():
                log.info("%s cancelled: its caller stopped waiting", what)
                await respond_error(
                    request,
                    DEADLINE_CODE,
                    "DeadlineExceeded",
                    f"{what}: its caller stopped waiting",
                )
                return False
            log.info(
                "remote call %s.%s raised %s: %s",
                service,
                contract.name,
                type(error).__name__,
                error,
            )
            await respond_error(request, "500", type(error).__name__, str(error))
            return False
        try:
            check_size(nats, request.subject, body, None)
        except PayloadTooLarge as error:
            log.warning("remote call %s.%s: answer not sent: %s", service, contract.name, error)
            await respond_error(request, "413", "PayloadTooLarge", f"the answer of {what}: {error}")
            return False
        await respond(request, body)
        return True

    async def run(request: Request, endpoint: Endpoint | None) -> None:
        started = time.perf_counter_ns()
        try:
            await handle(request)
        except asyncio.CancelledError:
            # Cut off because the process is stopping: the caller hears so now.
            try:
                await respond_error(
                    request,
                    STOPPED_CODE,
                    "ServiceUnavailable",
                    f"the process serving {service!r} stopped before {contract.name}() finished",
                )
            except Exception as error:  # its caller times out instead: say why
                log.warning("%s cut off; its caller was not told: %r", what, error)
            raise
        except Exception:  # e.g. the connection closed before the answer went out
            log.exception("remote call %s.%s could not be answered", service, contract.name)
        finally:
            if endpoint is not None:  # nats.micro's $SRV.STATS figures, as it counts them
                endpoint._processing_time += time.perf_counter_ns() - started
                endpoint._average_processing_time = int(
                    endpoint._processing_time / max(endpoint._num_requests, 1)
                )

    def dispatch(request: Request, endpoint: Endpoint | None = None) -> None:
        if endpoint is not None:
            endpoint._num_requests += 1
        task = asyncio.create_task(run(request, endpoint), name=what)
        calls.add(task)
        task.add_done_callback(calls.discard)

    return dispatch


class Served:
    """What one module's services subscribed: its micro service and its instance's subjects."""

    def __init__(self, micro: Service, instance: list[Any]) -> None:
        self.micro = micro
        self.instance = instance

    async def stop(self) -> None:
        """Take no new calls (those in progress go on: the caller waits for them)."""
        try:
            for subscription in self.instance:
                await subscription.unsubscribe()
        finally:
            await self.micro.stop()


async def serve_module_services(
    nats: Any,
    module: str,
    version: str,
    services: dict[str, Any],
    *,
    strict: bool,
    calls: set[asyncio.Task[None]],
    propagation: Propagation,
    node_id: str,
) -> Served | None:
    """Expose ``services`` (name -> instance) of ``module``, through the queue group and on
    ``node_id``'s own subjects; None when it has none. Calls in progress are in ``calls``."""
    if not services:
        return None
    micro = await add_service(
        nats,
        name=f"webos-{module}",
        version=version if version.count(".") == 2 else "0.0.0",
        description=f"services of the WebOS module {module}",
        metadata={"module": module},
    )
    instance: list[Any] = []
    for name, service_instance in services.items():
        handlers = {}
        for contract in method_contracts(type(service_instance), strict=strict).values():
            handler = _handler(service_instance, name, contract, propagation, calls, nats)
            handlers[contract.name] = handler
            await micro.add_endpoint(
                name=f"{name}-{contract.name}",
                subject=method_subject(name, contract.name),
                queue_group=f"webos.svc.{name}",
                handler=_queued(handler),
                metadata={"service": name, "method": contract.name, **contract_schemas(contract)},
            )
            _directly(micro._endpoints[-1], handler)
        subject = instance_subjects(name, node_id)
        instance.append(await nats.subscribe(subject, cb=_by_method(name, handlers)))
    return Served(micro, instance)


def _queued(dispatch: Any) -> Any:
    """nats.micro's handler: only for a subscription :func:`_directly` could not take over."""

    async def handle(request: Request) -> None:
        dispatch(request)

    return handle


def _directly(endpoint: Endpoint, dispatch: Any) -> None:
    """Start each call of ``endpoint`` as nats-py reads it (see the module docstring)."""
    subscription = endpoint._subscription
    if subscription is None or not hasattr(subscription, "_pending_queue"):
        return  # not nats-py's subscription: nats.micro's own path

    def deliver(message: Any) -> None:
        dispatch(Request(message), endpoint)

    deliver_directly(subscription, deliver)


def _by_method(service: str, handlers: dict[str, Any]) -> Any:
    """The callback of an instance's own subjects: the method is the subject's fourth token."""

    async def route(msg: Any) -> None:
        method = msg.subject.split(".")[3]
        request = Request(msg)
        handler = handlers.get(method)
        if handler is None:
            await respond_error(
                request, "404", "AttributeError", f"service {service!r} has no method {method!r}"
            )
            return
        handler(request)

    return route
