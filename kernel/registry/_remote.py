"""Services across processes: method signatures as contracts, proxies that call over NATS.

A call is a NATS request on ``webos.svc.<service>.<method>`` with ``{"args": {...}}``; the answer
is ``{"result": ...}`` or, for a raised exception, ``{"error": {"type", "message"}}``. Arguments
and results are validated against the method's type hints on both sides (pydantic), so a
proxy behaves like the local object, only across a process boundary.

A call whose arguments do not fit one NATS message raises ``PayloadTooLarge`` before anything is
sent; a result too large to send comes back as a ``RemoteServiceError`` of type
``PayloadTooLarge``; a call cut off because the serving process stopped raises
``ServiceUnavailable`` at once.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

from pydantic import TypeAdapter, ValidationError
from pydantic.errors import PydanticSchemaGenerationError

from kernel.contracts import Instances
from kernel.errors import WebOSError
from kernel.propagation import Propagation, call_deadline
from kernel.telemetry._metrics import attributes, instruments
from kernel.telemetry._spans import SpanKind, child_span, fail
from kernel.transport import check_size, request_unless_gone

SUBJECT_PREFIX = "webos.svc"
#: The NATS services protocol's header with an error answer's code.
ERROR_CODE_HEADER = "Nats-Service-Error-Code"
#: The code of a call cut off because the serving process stopped (``_serve.py``).
STOPPED_CODE = "503"


def method_subject(service: str, method: str) -> str:
    return f"{SUBJECT_PREFIX}.{service}.{method}"


class RemoteServiceError(WebOSError):
    """The remote method raised; ``remote_type`` and ``message`` say what it raised."""

    def __init__(self, service: str, method: str, remote_type: str, message: str) -> None:
        super().__init__(f"{service}.{method} raised {remote_type}: {message}")
        self.service = service
        self.method = method
        self.remote_type = remote_type
        self.message = message


class ServiceUnavailable(WebOSError):
    """No instance of the service answered in time."""

    http_status = 503


class NotRemotable(WebOSError, TypeError):
    """A service method cannot be called from another process (sync, or untyped payloads)."""


@dataclass(frozen=True)
class MethodContract:
    name: str
    signature: inspect.Signature
    params: dict[str, TypeAdapter[Any]]
    result: TypeAdapter[Any]

    def dump_args(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        bound = self.signature.bind(*args, **kwargs)
        return {
            name: self.params[name].dump_python(
                self.params[name].validate_python(value), mode="json"
            )
            for name, value in bound.arguments.items()
        }

    def load_args(self, raw: dict[str, Any]) -> dict[str, Any]:
        unknown = set(raw) - set(self.params)
        if unknown:
            raise TypeError(f"unexpected arguments: {', '.join(sorted(unknown))}")
        return {name: self.params[name].validate_python(value) for name, value in raw.items()}


def method_contracts(cls: type, *, strict: bool) -> dict[str, MethodContract]:
    """The public async methods of ``cls`` with pydantic adapters for arguments and result.

    ``strict`` (a module started standalone) raises for a method that cannot cross a process
    boundary; otherwise such methods are simply not offered remotely.
    """
    contracts: dict[str, MethodContract] = {}
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_"):
            continue
        try:
            contracts[name] = _contract(cls, name, member)
        except NotRemotable:
            if strict:
                raise
    return contracts


def _contract(cls: type, name: str, func: Callable[..., Any]) -> MethodContract:
    where = f"{cls.__qualname__}.{name}"
    if not inspect.iscoroutinefunction(func):
        raise NotRemotable(f"service method {where} must be 'async def' to be called remotely")
    signature = inspect.signature(func)
    hints = get_type_hints(func)
    params: dict[str, TypeAdapter[Any]] = {}
    for param in list(signature.parameters.values())[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise NotRemotable(f"service method {where} cannot take *args or **kwargs remotely")
        params[param.name] = _adapter(where, param.name, hints.get(param.name, Any))
    result = _adapter(where, "return value", hints.get("return", Any))
    parameters = list(signature.parameters.values())[1:]
    return MethodContract(name, signature.replace(parameters=parameters), params, result)


def _adapter(where: str, what: str, annotation: Any) -> TypeAdapter[Any]:
    try:
        adapter = TypeAdapter(annotation)
        adapter.json_schema()
    except (PydanticSchemaGenerationError, TypeError) as error:
        raise NotRemotable(
            f"service method {where}: {what} of type {annotation!r} cannot be sent between "
            f"processes (it must be JSON-serialisable through pydantic): {error}"
        ) from None
    return adapter


class RemoteServiceProxy:
    """Stands in for a service that lives in another process."""

    def __init__(
        self,
        name: str,
        contracts: dict[str, MethodContract],
        connection: Callable[[], Any],
        timeout: Callable[[], float],
        propagation: Propagation | None = None,
        *,
        module: str | None = None,
        instances: Callable[[], Instances | None] = lambda: None,
    ) -> None:
        self._name = name
        self._module = module
        self._instances = instances
        self._contracts = contracts
        self._connection = connection
        self._timeout = timeout
        self._propagation = propagation or Propagation.default()

    def __repr__(self) -> str:
        return f"<remote service {self._name!r}: {', '.join(sorted(self._contracts))}>"

    def __getattr__(self, method: str) -> Callable[..., Any]:
        contract = self._contracts.get(method)
        if contract is None:
            raise AttributeError(
                f"service {self._name!r} has no remote method {method!r}. "
                f"Methods: {', '.join(sorted(self._contracts)) or 'none'}"
            )

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._call(contract, args, kwargs)

        call.__name__ = method
        return call

    async def _call(
        self, contract: MethodContract, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        body = json.dumps({"args": contract.dump_args(args, kwargs)}).encode()
        started = time.perf_counter()
        outcome = "unavailable"
        try:
            with child_span(
                f"{self._name}/{contract.name}",
                SpanKind.CLIENT,
                {"rpc.system": "nats", "rpc.service": self._name, "rpc.method": contract.name},
            ) as span:
                answer, code = await self._request(contract, body)
                outcome = "error" if "error" in answer else "ok"
                if outcome == "error":
                    fail(span, str(answer["error"].get("type", "Error")))
        finally:
            labels = attributes(
                service=self._name, method=contract.name, side="client", outcome=outcome
            )
            meters = instruments()
            meters.remote_calls.add(1, labels)
            meters.remote_duration.record(time.perf_counter() - started, labels)
        if "error" in answer:
            error = answer["error"]
            if code == STOPPED_CODE:
                raise ServiceUnavailable(str(error.get("message", "")))
            raise RemoteServiceError(
                self._name, contract.name, error.get("type", "Error"), error.get("message", "")
            )
        try:
            return contract.result.validate_python(answer.get("result"))
        except ValidationError as error:
            raise RemoteServiceError(
                self._name, contract.name, "ValidationError", str(error)
            ) from None

    async def _request(
        self, contract: MethodContract, body: bytes
    ) -> tuple[dict[str, Any], str | None]:
        """The answer, and its error code when it is an error."""
        from nats.errors import NoRespondersError
        from nats.errors import TimeoutError as NatsTimeout

        # Trace (the client span is current), identity and the rest, as on events.
        headers: dict[str, str] = {}
        self._propagation.inject(headers)
        subject = method_subject(self._name, contract.name)
        timeout = call_deadline(self._timeout(), headers, f"{self._name}.{contract.name}()")
        connection = self._connection()
        check_size(connection, subject, body, headers or None)
        try:
            instances = self._instances()
            gone = instances.module_gone(self._module) if instances and self._module else None
            reply = await request_unless_gone(
                connection, subject, body, timeout=timeout, headers=headers or None, gone=gone
            )
        except NoRespondersError:
            raise ServiceUnavailable(f"no instance of service {self._name!r} is running") from None
        except (NatsTimeout, TimeoutError):
            raise ServiceUnavailable(
                f"service {self._name!r} did not answer {contract.name}() within {timeout}s"
            ) from None
        return json.loads(reply.data), (reply.headers or {}).get(ERROR_CODE_HEADER)
