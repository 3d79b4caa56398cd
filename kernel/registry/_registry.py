"""The service registry: modules find each other's services by name or by type."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, overload

from kernel.errors import WebOSError
from kernel.registry._policy import class_options, is_method, mark_method

if TYPE_CHECKING:  # only named in annotations: ``import kernel`` stays light
    from kernel.registry._guard import ServiceGuard
    from kernel.registry._policy import BreakerPolicy

T = TypeVar("T")
MARKER = "__webos_service__"


class ServiceNotFound(WebOSError, LookupError):
    """No service is registered under the requested name or type."""


class ServiceAlreadyRegistered(WebOSError, ValueError):
    """Two modules tried to register a service under the same name."""


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    name: str
    instance: Any
    module: str | None
    types: tuple[type, ...]


@dataclass(frozen=True, slots=True)
class ServiceDeclaration:
    """What ``@service`` recorded on a class or factory in ``services.py``."""

    name: str
    provides: tuple[type, ...]
    #: Call options on the class: what callers in other processes apply (``_policy.py``).
    options: dict[str, Any] = field(default_factory=dict)


def service(
    name: str | None = None,
    *,
    provides: type | tuple[type, ...] = (),
    timeout: float | None = None,
    retries: int | None = None,
    idempotent: bool | None = None,
    concurrency: int | None = None,
    breaker: BreakerPolicy | bool | None = None,
) -> Callable[[T], T]:
    """Mark a class (instantiated with no arguments) or a factory in ``services.py``.

    The module loader registers it under ``name`` (default: the snake_case class name) and under
    every type in ``provides``; the decorator itself registers nothing. The other options are
    the call policy callers in other processes apply (docs/distribution.md, "Failing well");
    on a method, ``timeout``, ``retries`` and ``idempotent`` apply to that method alone.
    """
    given = {
        key: value
        for key, value in (
            ("timeout", timeout),
            ("retries", retries),
            ("idempotent", idempotent),
            ("concurrency", concurrency),
            ("breaker", breaker),
        )
        if value is not None
    }

    def mark(target: T) -> T:
        if not callable(target):
            raise TypeError("@service marks a class or a factory function")
        if is_method(target):
            if name is not None or provides:
                where = getattr(target, "__qualname__", target)
                raise TypeError(
                    f"@service on the method {where} takes call options only "
                    "(timeout, retries, idempotent); name and provides belong on the class"
                )
            mark_method(target, given)
            return target
        declared = name or _snake_case(getattr(target, "__name__", "service"))
        types = provides if isinstance(provides, tuple) else (provides,)
        setattr(target, MARKER, ServiceDeclaration(declared, types, class_options(target, given)))
        return target

    return mark


def declared_service(target: object) -> ServiceDeclaration | None:
    declaration = getattr(target, MARKER, None)
    return declaration if isinstance(declaration, ServiceDeclaration) else None


def _snake_case(name: str) -> str:
    out = []
    for index, char in enumerate(name):
        if char.isupper() and index and not name[index - 1].isupper():
            out.append("_")
        out.append(char.lower())
    return "".join(out)


class Registry:
    """Name -> service. ``get`` also accepts a type, matched against what was registered."""

    def __init__(self) -> None:
        self._by_name: dict[str, ServiceEntry] = {}
        self._remote: dict[str, Any] = {}
        self._guards: dict[str, ServiceGuard] = {}

    def declare_remote(self, name: str, proxy: Any) -> None:
        """Return ``proxy`` from ``get(name)`` while no local instance is registered, and from
        ``get(name, prefer_local=False)`` always."""
        self._remote[name] = proxy

    def guard(self, name: str, build: Callable[[], ServiceGuard]) -> ServiceGuard:
        """The one guard (breaker, bulkhead, counts) of service ``name`` in this process."""
        guard = self._guards.get(name)
        if guard is None:
            guard = self._guards[name] = build()
        return guard

    def call_stats(self) -> list[dict[str, Any]]:
        """Per remote service this process called: breaker state, calls in flight, counts and
        latencies (what the console's Services view shows)."""
        return [guard.stats() for _, guard in sorted(self._guards.items())]

    def register(
        self,
        name: str | type,
        instance: Any,
        *,
        module: str | None = None,
        provides: tuple[type, ...] = (),
        replace: bool = False,
    ) -> None:
        if isinstance(name, type):
            provides = (name, *provides)
            name = _snake_case(name.__name__)
        if not name or not isinstance(name, str):
            raise ValueError("a service name must be a non-empty string")
        existing = self._by_name.get(name)
        if existing is not None and not replace:
            owner = f" by module {existing.module!r}" if existing.module else ""
            raise ServiceAlreadyRegistered(f"service {name!r} is already registered{owner}")
        self._by_name[name] = ServiceEntry(name, instance, module, provides)

    def unregister(self, name: str) -> None:
        self._by_name.pop(name, None)

    @overload
    def get(self, key: type[T]) -> T: ...
    @overload
    def get(self, key: str, *, prefer_local: bool = True) -> Any: ...
    def get(self, key: str | type[T], *, prefer_local: bool = True) -> Any:
        """The service ``key`` names. ``prefer_local`` (the default): the object itself when it
        runs in this process, else its proxy. ``prefer_local=False``: the proxy even then, so
        calls go over NATS to any instance, this process's among them (a service is looked up
        by name for that: proxies have no type)."""
        if isinstance(key, str):
            entry = self._by_name.get(key)
            if entry is not None and prefer_local:
                return entry.instance
            remote = self._remote.get(key)
            if remote is not None:
                return remote
            if entry is not None:
                raise ServiceNotFound(
                    f"service {key!r} has no proxy to call it over NATS with "
                    "(prefer_local=False): it was registered in this process, not declared by "
                    "a module's services.py"
                )
        else:
            if not prefer_local:
                raise TypeError(
                    f"prefer_local=False needs a service name, not the type {key.__qualname__}"
                )
            for entry in self._by_name.values():
                if key in entry.types or isinstance(entry.instance, key):
                    return entry.instance
        raise ServiceNotFound(self._missing_message(key))

    def _missing_message(self, key: str | type) -> str:
        wanted = key if isinstance(key, str) else f"of type {key.__qualname__}"
        known = ", ".join(sorted({*self._by_name, *self._remote})) or "none"
        return f"no service {wanted!r} is registered. Registered: {known}"

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._by_name

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def entries(self) -> list[ServiceEntry]:
        return list(self._by_name.values())

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "name": entry.name,
                "module": entry.module,
                "type": type(entry.instance).__qualname__,
                "methods": sorted(
                    attr
                    for attr, value in inspect.getmembers(entry.instance, callable)
                    if not attr.startswith("_")
                ),
            }
            for entry in self._by_name.values()
        ]

    def where(self, name: str) -> tuple[str | None, list[str]] | None:
        """How service ``name`` is served as far as this process knows: the module of its proxy
        (None when it lives here) and its methods; None for a service this process never heard
        of (another process may still serve it)."""
        entry = self._by_name.get(name)
        if entry is not None:
            methods = inspect.getmembers(entry.instance, callable)
            return None, sorted(attr for attr, _ in methods if not attr.startswith("_"))
        proxy = self._remote.get(name)
        if proxy is None:
            return None
        return proxy._module, sorted(proxy._contracts)

    def remote_names(self) -> list[str]:
        return sorted(set(self._remote) - set(self._by_name))

    def clear(self) -> None:
        self._by_name.clear()
        self._remote.clear()
        self._guards.clear()


#: The process's registry (``from kernel import registry``); each kernel clears it when loading.
registry = Registry()


def call_stats() -> list[dict[str, Any]]:
    """``registry.call_stats()`` of the process's registry."""
    return registry.call_stats()
