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

import asyncio
import inspect
import logging
import random
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from nats.errors import ConnectionClosedError, NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from pydantic import ValidationError

from kernel.context import time_left
from kernel.contracts import Instances
from kernel.errors import DeadlineExceeded, WebOSError
from kernel.propagation import Propagation, call_deadline
from kernel.registry._contracts import MethodContract, NotRemotable, method_contracts
from kernel.registry._guard import ServiceGuard
from kernel.registry._policy import ROUTING_OPTIONS, CallPolicy, check_options, with_changes
from kernel.registry._routing import choose
from kernel.registry._subjects import SUBJECT_PREFIX, method_subject
from kernel.telemetry._metrics import attributes, instruments
from kernel.telemetry._spans import SpanKind, child_span, fail
from kernel.transport import check_size, request_unless_gone

# Re-exported: their homes are _subjects.py and _contracts.py.
__all__ = ["SUBJECT_PREFIX", "MethodContract", "NotRemotable", "method_contracts", "method_subject"]

#: The NATS services protocol's header with an error answer's code.
ERROR_CODE_HEADER = "Nats-Service-Error-Code"
#: The code of a call cut off because the serving process stopped (``_serve.py``).
STOPPED_CODE = "503"
#: The code of a call the serving side cut off at the end of the wait its caller sent with it
#: (``_serve.py``): told to the caller as what its own wait's end would have raised.
DEADLINE_CODE = "504"


class RemoteServiceError(WebOSError):
    """The remote method raised; ``remote_type`` and ``message`` say what it raised."""

    def __init__(self, service: str, method: str, remote_type: str, message: str) -> None:
        super().__init__(f"{service}.{method} raised {remote_type}: {message}")
        self.service = service
        self.method = method
        self.remote_type = remote_type
        self.message = message


class ServiceUnavailable(WebOSError):
    """The call failed for a transport reason, or the caller's guard refused it; ``reason`` says
    which: ``no instance``, ``timeout``, ``stopped``, ``connection lost`` (retried for an
    idempotent method), ``circuit open``, ``too many calls in flight`` (never retried)."""

    http_status = 503

    def __init__(self, message: str, *, reason: str = "unavailable") -> None:
        super().__init__(message)
        self.reason = reason


#: Transport failures a retry may cure; the guard's own refusals are not among them.
RETRYABLE = frozenset({"no instance", "timeout", "stopped", "connection lost"})
#: Backoff of retries: the first waits up to BACKOFF_BASE seconds (full jitter), doubling.
BACKOFF_BASE = 0.05
BACKOFF_MAX = 2.0
#: What ``with_options`` accepts.
CALL_OPTIONS = ("timeout", "retries", "idempotent", "fallback", *sorted(ROUTING_OPTIONS))
log = logging.getLogger("webos.registry")


class RemoteServiceProxy:
    """Stands in for a service that lives in another process, applying each method's
    ``CallPolicy`` (``_policy.py``) through the service's guard in this process (``_guard.py``)."""

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
        policies: dict[str, CallPolicy] | None = None,
        guard: ServiceGuard | None = None,
    ) -> None:
        self._name = name
        self._module = module
        self._instances = instances
        self._contracts = contracts
        self._connection = connection
        self._timeout = timeout
        self._propagation = propagation or Propagation.default()
        default = CallPolicy()
        self._policies = policies or {method: default for method in contracts}
        self._guard = guard or ServiceGuard(name, default.breaker, default.concurrency)
        self._shard_key: str | None = None
        self._prefer_local = True

    def __repr__(self) -> str:
        return f"<remote service {self._name!r}: {', '.join(sorted(self._contracts))}>"

    def with_options(self, **options: Any) -> RemoteServiceProxy:
        """The same service with options for the calls made through the copy: ``timeout``,
        ``retries``, ``idempotent``, ``fallback`` (a value, or a callable given the call's
        arguments), ``shard_key``, ``prefer_local``. The breaker and the bulkhead stay shared."""
        check_options(options, where=f"with_options on {self._name!r}", allowed=CALL_OPTIONS)
        copy = RemoteServiceProxy.__new__(RemoteServiceProxy)
        copy.__dict__.update(
            {key: value for key, value in self.__dict__.items() if key.startswith("_")}
        )
        copy._policies = {
            method: with_changes(policy, options) for method, policy in self._policies.items()
        }
        copy._shard_key = options.get("shard_key", self._shard_key)
        copy._prefer_local = options.get("prefer_local", self._prefer_local)
        return copy

    def __getattr__(self, method: str) -> Callable[..., Any]:
        contract = self._contracts.get(method)
        if contract is None:
            raise AttributeError(
                f"service {self._name!r} has no remote method {method!r}. "
                f"Methods: {', '.join(sorted(self._contracts)) or 'none'}"
            )
        policy = self._policies[method]

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._call(contract, policy, args, kwargs)

        call.__name__ = method
        # Kept on the instance: later lookups find it without __getattr__ (the hot path).
        self.__dict__[method] = call
        return call

    async def _call(
        self,
        contract: MethodContract,
        policy: CallPolicy,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        body = contract.codec.encode_args(args, kwargs)
        try:
            if policy.retries_allowed():
                return await self._attempts(contract, policy, body)
            return await self._attempt(contract, policy, body)  # nothing to retry: no loop
        except ServiceUnavailable as error:
            if policy.fallback is None:
                raise
            self._guard.fallbacks += 1
            log.warning(
                "service call %s.%s failed (%s: %s); returned its fallback",
                self._name,
                contract.name,
                error.reason,
                error,
            )
            value = policy.fallback(*args, **kwargs)
            return await value if inspect.isawaitable(value) else value

    async def _attempts(self, contract: MethodContract, policy: CallPolicy, body: bytes) -> Any:
        retries = policy.retries_allowed()
        attempt = 0
        while True:
            try:
                return await self._attempt(contract, policy, body)
            except ServiceUnavailable as error:
                if attempt >= retries or error.reason not in RETRYABLE:
                    raise
                # Full jitter: callers that failed together do not come back together.
                delay = random.uniform(0, min(BACKOFF_MAX, BACKOFF_BASE * 2**attempt))
                left = time_left()
                if left is not None and left <= delay:
                    # The caller stops waiting before a retry could be sent: say why it failed
                    # now, rather than a DeadlineExceeded after sleeping out its time.
                    raise
                attempt += 1
                self._guard.retries += 1
                log.info(
                    "service call %s.%s: %s; retry %d of %d",
                    self._name,
                    contract.name,
                    error.reason,
                    attempt,
                    retries,
                )
                await asyncio.sleep(delay)

    async def _attempt(self, contract: MethodContract, policy: CallPolicy, body: bytes) -> Any:
        guard = self._guard
        breaker = guard.breaker
        if not breaker.admit():
            guard.rejected += 1
            raise ServiceUnavailable(
                f"service {self._name!r}: circuit open after repeated failures; "
                f"calls fail at once for {breaker.policy.cooldown}s, then one is tried",
                reason="circuit open",
            )
        # The one place an attempt's timeout is decided (the deadline's time left joins here).
        timeout = self._timeout() if policy.timeout is None else policy.timeout
        slots = guard.slots
        started = time.perf_counter()
        if slots.locked():
            try:
                async with asyncio.timeout(timeout):
                    await slots.acquire()
            except TimeoutError:
                breaker.cancelled()
                guard.rejected += 1
                raise ServiceUnavailable(
                    f"service {self._name!r}: too many calls in flight "
                    f"({guard.concurrency} from this process) for {timeout}s",
                    reason="too many calls in flight",
                ) from None
            except BaseException:
                breaker.cancelled()
                raise
            # Waiting for a slot counts against the call's timeout.
            timeout = max(timeout - (time.perf_counter() - started), 0.001)
        else:
            await slots.acquire()  # free: returns without suspending
        guard.in_flight += 1
        guard.calls += 1
        outcome = "unavailable"
        names = _names(self._name, contract.name)
        try:
            with child_span(names.span, SpanKind.CLIENT, names.span_attributes) as span:
                data, code = await self._request(contract, body, timeout, policy.idempotent)
                # answer: None for a plain result (the common case, decoded straight to it).
                result, answer = contract.codec.decode_result(data)
                outcome = "error" if answer is not None and "error" in answer else "ok"
                if outcome == "error":
                    assert answer is not None
                    fail(span, str(answer["error"].get("type", "Error")))
        except ServiceUnavailable:
            guard.failures += 1
            breaker.record(True)
            raise
        except BaseException:
            breaker.cancelled()
            raise
        finally:
            guard.in_flight -= 1
            slots.release()
            elapsed = time.perf_counter() - started
            guard.finished(elapsed)
            labels = names.labels[outcome]
            meters = instruments()
            meters.remote_calls.add(1, labels)
            meters.remote_duration.record(elapsed, labels)
        if answer is None:
            breaker.record(False)
            return result
        if "error" in answer:
            error = answer["error"]
            if code == STOPPED_CODE:
                guard.failures += 1
                breaker.record(True)
                raise ServiceUnavailable(str(error.get("message", "")), reason="stopped")
            guard.errors += 1
            breaker.record(False)
            raise RemoteServiceError(
                self._name, contract.name, error.get("type", "Error"), error.get("message", "")
            )
        breaker.record(False)
        try:
            return contract.result.validate_python(answer.get("result"))
        except ValidationError as error:
            raise RemoteServiceError(
                self._name, contract.name, "ValidationError", str(error)
            ) from None

    async def _request(
        self, contract: MethodContract, body: bytes, timeout: float, idempotent: bool
    ) -> tuple[bytes, str | None]:
        """The answer's body, and its error code when it is an error. ``idempotent``: a call
        whose keyed instance left the table while it waited may be sent again to another."""
        # Trace (the client span is current), identity and the rest, as on events.
        headers: dict[str, str] = {}
        self._propagation.inject(headers)
        instances = self._instances()
        subject, node = choose(
            self._name,
            contract.name,
            shard_key=self._shard_key,
            module=self._module,
            instances=instances,
        )
        wanted = timeout
        timeout = call_deadline(timeout, headers, f"{self._name}.{contract.name}()")
        connection = self._connection()
        check_size(connection, subject, body, headers or None)
        try:
            gone = instances.module_gone(self._module) if instances and self._module else None
            # A keyed call ends when its node leaves the table, as a wildcard subscriber (audit's
            # ``@on(">")``) keeps NATS from saying "no responders" for a dead instance.
            node_gone = instances.node_gone(node) if instances and node else None
            sent = time.monotonic()
            try:
                reply = await request_unless_gone(
                    connection,
                    subject,
                    body,
                    timeout=timeout,
                    headers=headers or None,
                    gone=node_gone or gone,
                )
            except NoRespondersError:
                if node is None or (gone is not None and gone.done()):
                    raise
                if node_gone is not None and node_gone.done() and not idempotent:
                    # It left while the call waited: the call may have run there.
                    raise ServiceUnavailable(
                        f"the instance of service {self._name!r} chosen for the call's shard key "
                        f"left during {contract.name}(); not sent again, as it may have run",
                        reason="stopped",
                    ) from None
                # The keyed instance vanished before the table noticed (nobody received the
                # call), or left while an idempotent call waited: any instance may take it.
                subject = method_subject(self._name, contract.name)
                # What is left of the wait, the deadline's header rewritten to match.
                left = max(timeout - (time.monotonic() - sent), 0.001)
                left = call_deadline(left, headers, f"{self._name}.{contract.name}()")
                reply = await request_unless_gone(
                    connection,
                    subject,
                    body,
                    timeout=left,
                    headers=headers or None,
                    gone=gone,
                )
        except NoRespondersError:
            raise ServiceUnavailable(
                f"no instance of service {self._name!r} is running", reason="no instance"
            ) from None
        except (NatsTimeout, TimeoutError):
            raise self._unanswered(contract, timeout, wanted) from None
        except ConnectionClosedError:
            raise ServiceUnavailable(
                f"the connection to NATS closed during {self._name}.{contract.name}()",
                reason="connection lost",
            ) from None
        answer_headers = reply.headers
        code = answer_headers.get(ERROR_CODE_HEADER) if answer_headers else None
        if code == DEADLINE_CODE:
            # The service's bound (this wait, sent with the call) ended a moment before this
            # side's: the caller hears what its own wait would have said.
            raise self._unanswered(contract, timeout, wanted)
        return reply.data, code

    def _unanswered(
        self, contract: MethodContract, timeout: float, wanted: float
    ) -> DeadlineExceeded | ServiceUnavailable:
        if timeout < wanted:
            # The caller's deadline ended the wait, not the service's timeout: neither
            # retried nor held against the service by its breaker.
            return DeadlineExceeded(
                f"{self._name}.{contract.name}() had no answer before the deadline of the "
                f"work calling it ({timeout:g}s)"
            )
        return ServiceUnavailable(
            f"service {self._name!r} did not answer {contract.name}() within {timeout:g}s",
            reason="timeout",
        )


class _Names:
    """What a client span and the call metrics say about one method: built once, not per call."""

    def __init__(self, service: str, method: str) -> None:
        self.span = f"{service}/{method}"
        self.span_attributes = {"rpc.system": "nats", "rpc.service": service, "rpc.method": method}
        self.labels = {
            outcome: attributes(service=service, method=method, side="client", outcome=outcome)
            for outcome in ("ok", "error", "unavailable")
        }


@cache
def _names(service: str, method: str) -> _Names:
    return _Names(service, method)
