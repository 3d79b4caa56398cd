"""A call by name, with JSON arguments: how a shell (``webos call``) or the gateway's
``POST /api/system/services/{service}/{method}`` calls a service it has no contract for.

The serving side validates the arguments (``_arguments.py``), so a caller needs neither the
module's code nor its types. The call is the one a proxy makes (the same subject, body, headers
and answers); only the arguments arrive as JSON instead of Python values.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from kernel.contracts import Instances
from kernel.errors import WebOSError
from kernel.propagation import Propagation, call_deadline
from kernel.registry._arguments import BAD_ARGUMENTS_CODE
from kernel.registry._registry import Registry
from kernel.registry._remote import (
    DEADLINE_CODE,
    ERROR_CODE_HEADER,
    STOPPED_CODE,
    RemoteServiceError,
    ServiceUnavailable,
    method_subject,
)
from kernel.transport import check_size, request_unless_gone

#: A service or method name: one subject token, no wildcard (``*``, ``>``) and no ``.``, so a
#: name can only ever reach ``webos.svc.<service>.<method>``.
NAME = re.compile(r"[A-Za-z0-9_-]+")


class ServiceArgumentsRejected(RemoteServiceError):
    """The serving side refused the call's arguments (the message names each problem)."""

    http_status = 400


class UnknownServiceMethod(WebOSError, LookupError):
    """The service is known here and has no such method: refused before anything is sent."""

    http_status = 404


class InvalidServiceName(WebOSError, ValueError):
    """A service or method name that is not one plain subject token."""

    http_status = 400


def parse_target(target: str) -> tuple[str, str]:
    """``"greeter.greet"`` -> ``("greeter", "greet")``."""
    service, dot, method = target.partition(".")
    if not dot:
        raise InvalidServiceName(f"{target!r}: give SERVICE.METHOD, for example greeter.greet")
    check_names(service, method)
    return service, method


def check_names(service: str, method: str) -> None:
    for what, name in (("service", service), ("method", method)):
        if not NAME.fullmatch(name):
            raise InvalidServiceName(
                f"{what} name {name!r}: letters, digits, '_' and '-' only (one subject token)"
            )


def departure(
    registry: Registry, instances: Instances | None, service: str, method: str
) -> asyncio.Future[None] | None:
    """For a process with a registry and a node table (the gateway): what ends a call to
    ``service.method`` once no live node runs its module (a wildcard subscriber keeps NATS from
    saying "no responders"). Raises ``UnknownServiceMethod`` for a method the known service
    lacks; None when this process cannot tell (a service it never heard of, or one it runs)."""
    check_names(service, method)
    served = registry.where(service)
    if served is None:
        return None
    module, methods = served
    if method not in methods:
        raise UnknownServiceMethod(
            f"service {service!r} has no method {method!r}. Methods: {', '.join(methods)}"
        )
    if module is None or instances is None:
        return None
    return instances.module_gone(module)


async def call_service(
    connection: Any,
    service: str,
    method: str,
    args: dict[str, Any],
    *,
    timeout: float,
    propagation: Propagation,
    gone: asyncio.Future[None] | None = None,
) -> Any:
    """The result of ``service.method(**args)``, served wherever it runs. Raises
    ``RemoteServiceError`` for what the method (or the arguments' validation) raised, and
    ``ServiceUnavailable`` when nobody serves it (or ``gone`` is done: :func:`departure`) or no
    answer came within ``timeout``, shortened by the deadline in force (``call_deadline``),
    which the callee hears too."""
    check_names(service, method)
    subject = method_subject(service, method)
    body = json.dumps({"args": args}).encode()
    # Trace and correlation id, and the identity when ``propagation`` signs one (the gateway's).
    headers: dict[str, str] = {}
    propagation.inject(headers)
    timeout = call_deadline(timeout, headers, f"{service}.{method}()")
    check_size(connection, subject, body, headers or None)
    try:
        reply = await request_unless_gone(
            connection, subject, body, timeout=timeout, headers=headers or None, gone=gone
        )
    except NoRespondersError:
        raise ServiceUnavailable(
            f"nothing serves {service}.{method} (no such service or method, or none running)"
        ) from None
    except (NatsTimeout, TimeoutError):
        raise _unanswered(service, method, timeout) from None
    answer = json.loads(reply.data)
    error = answer.get("error") if isinstance(answer, dict) else None
    if error is None:
        return answer.get("result") if isinstance(answer, dict) else None
    code = (reply.headers or {}).get(ERROR_CODE_HEADER)
    if code == STOPPED_CODE:
        raise ServiceUnavailable(str(error.get("message", "")))
    if code == DEADLINE_CODE:
        # The service's bound (the deadline sent) ended a moment before this wait: the caller
        # hears the same as when its own wait ends first.
        raise _unanswered(service, method, timeout)
    refused = ServiceArgumentsRejected if code == BAD_ARGUMENTS_CODE else RemoteServiceError
    raise refused(service, method, str(error.get("type", "Error")), str(error.get("message", "")))


def _unanswered(service: str, method: str, timeout: float) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"service {service!r} did not answer {method}() within {timeout:.3g}s"
    )
