"""Call policies: how a caller treats a remote service (timeout, retries, breaker, bulkhead).

A ``CallPolicy`` is resolved once per method when the proxy is built, each layer overriding the
one before: the defaults, ``@service(...)`` on the class, ``@service(...)`` on the method, the
service's ``[services.NAME]`` table in its ``module.toml``, that table's ``methods.METHOD``;
then per call site by ``proxy.with_options(...)``. The breaker and the bulkhead belong to the
target service in the caller process, so only the class, the service table and ``with_options``
on a whole proxy set them.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only named in annotations: ``import kernel`` builds no pydantic model
    from kernel.modules import MethodOptions, ServiceOptions

POLICY_MARKER = "__webos_call_policy__"
FALLBACK_MARKER = "__webos_fallback__"
#: What ``with_options`` accepts besides the policy's own fields.
ROUTING_OPTIONS = frozenset({"shard_key", "prefer_local"})


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """Opens when ``failure_ratio`` of the last ``window`` calls (at least ``min_calls``) failed
    for a transport reason; after ``cooldown`` seconds one trial call goes through."""

    failure_ratio: float = 0.5
    window: int = 20
    min_calls: int = 10
    cooldown: float = 5.0
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class CallPolicy:
    """``timeout`` None means the process's ``WEBOS_REQUEST_TIMEOUT``."""

    timeout: float | None = None
    retries: int = 0
    idempotent: bool = False
    concurrency: int = 64
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    fallback: Callable[..., Any] | None = None

    def retries_allowed(self) -> int:
        # A call that is not safe to send twice is never sent twice, whatever retries says.
        return self.retries if self.idempotent else 0


_METHOD_FIELDS = ("timeout", "retries", "idempotent")
_SERVICE_FIELDS = (*_METHOD_FIELDS, "concurrency")


def check_options(options: dict[str, Any], *, where: str, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(
            f"{where}: unknown call option {', '.join(map(repr, unknown))}. "
            f"Options: {', '.join(allowed)}"
        )
    timeout = options.get("timeout")
    if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
        raise ValueError(f"{where}: timeout must be a positive number of seconds, not {timeout!r}")
    retries = options.get("retries")
    if retries is not None and not (isinstance(retries, int) and 0 <= retries <= 10):
        raise ValueError(f"{where}: retries must be an integer from 0 to 10, not {retries!r}")
    concurrency = options.get("concurrency")
    if concurrency is not None and not (isinstance(concurrency, int) and concurrency >= 1):
        raise ValueError(f"{where}: concurrency must be a positive integer, not {concurrency!r}")
    breaker = options.get("breaker")
    if breaker is not None and not isinstance(breaker, BreakerPolicy | bool):
        raise TypeError(f"{where}: breaker must be a BreakerPolicy, or False to turn it off")


def mark_method(target: Callable[..., Any], options: dict[str, Any]) -> None:
    check_options(options, where=target.__qualname__, allowed=_METHOD_FIELDS)
    setattr(target, POLICY_MARKER, options)


def class_options(target: Callable[..., Any], options: dict[str, Any]) -> dict[str, Any]:
    where = getattr(target, "__qualname__", repr(target))
    check_options(options, where=where, allowed=(*_SERVICE_FIELDS, "breaker"))
    return options


def is_method(target: object) -> bool:
    """A function defined in a class body (``Billing.charge``), not a factory function."""
    if not inspect.isfunction(target):
        return False
    parts = target.__qualname__.split(".")
    return len(parts) > 1 and parts[-2] != "<locals>"


def fallback(value: Any) -> Callable[[Any], Any]:
    """Mark a service method: when a call fails for a transport reason (no instance, timeout,
    circuit open, too many in flight), the caller gets ``value`` instead of the error. A callable
    is called with the call's arguments (awaited if it returns an awaitable)."""

    def mark(method: Any) -> Any:
        if not is_method(method):
            raise TypeError("@fallback marks a method of a @service class")
        setattr(method, FALLBACK_MARKER, value)
        return method

    return mark


def _as_callable(value: Any) -> Callable[..., Any]:
    return value if callable(value) else (lambda *args, **kwargs: value)


def _breaker(base: BreakerPolicy, option: Any) -> BreakerPolicy:
    if option is False:
        return dataclasses.replace(base, enabled=False)
    if option is True or option is None:
        return base
    changes = option.model_dump(exclude_none=True) if hasattr(option, "model_dump") else {}
    return dataclasses.replace(option if isinstance(option, BreakerPolicy) else base, **changes)


def _table_changes(table: MethodOptions | None, names: tuple[str, ...]) -> dict[str, Any]:
    if table is None:
        return {}
    return {name: getattr(table, name) for name in names if getattr(table, name) is not None}


def resolve_policies(
    cls: type,
    methods: list[str],
    class_level: dict[str, Any],
    tables: tuple[ServiceOptions | None, ...] = (),
) -> tuple[CallPolicy, dict[str, CallPolicy]]:
    """The service's policy (breaker, bulkhead) and each method's. ``tables``: the manifest's
    ``[services.NAME]``, then the caller's ``WEBOS_SERVICE_POLICIES`` entry, each overriding the
    code and the tables before it."""
    given = [table for table in tables if table is not None]
    service_changes = {k: v for k, v in class_level.items() if k != "breaker"}
    base = CallPolicy(**service_changes)
    base = dataclasses.replace(base, breaker=_breaker(base.breaker, class_level.get("breaker")))
    for table in given:
        base = dataclasses.replace(base, **_table_changes(table, _SERVICE_FIELDS))
        if table.breaker is not None:
            base = dataclasses.replace(base, breaker=_breaker(base.breaker, table.breaker))
    per_method: dict[str, CallPolicy] = {}
    for name in methods:
        function = getattr(cls, name, None)
        policy = dataclasses.replace(base, **getattr(function, POLICY_MARKER, {}))
        # A table overrides the code, method markers included.
        for table in given:
            policy = dataclasses.replace(policy, **_table_changes(table, _METHOD_FIELDS))
            method_table = table.methods.get(name)
            policy = dataclasses.replace(policy, **_table_changes(method_table, _METHOD_FIELDS))
        if hasattr(function, FALLBACK_MARKER):
            policy = dataclasses.replace(
                policy, fallback=_as_callable(getattr(function, FALLBACK_MARKER))
            )
        per_method[name] = policy
    return base, per_method


def with_changes(policy: CallPolicy, options: dict[str, Any]) -> CallPolicy:
    """``with_options``: ``fallback`` may be a value or a callable."""
    changes = {k: v for k, v in options.items() if k not in ROUTING_OPTIONS}
    if "fallback" in changes and changes["fallback"] is not None:
        changes["fallback"] = _as_callable(changes["fallback"])
    return dataclasses.replace(policy, **changes)
