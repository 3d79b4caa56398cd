"""A service method as a contract between processes: its signature and pydantic adapters.

``method_contracts`` reads a ``@service`` class once; the proxy (``_remote.py``) and the serving
side (``_serve.py``) both check every call against the same contract, and ``codec`` writes and
reads its bytes (``_codec.py``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, get_type_hints

from pydantic import TypeAdapter
from pydantic.errors import PydanticSchemaGenerationError

from kernel.errors import WebOSError
from kernel.registry._codec import CallCodec


class NotRemotable(WebOSError, TypeError):
    """A service method cannot be called from another process (sync, or untyped payloads)."""


@dataclass(frozen=True)
class MethodContract:
    name: str
    signature: inspect.Signature
    params: dict[str, TypeAdapter[Any]]
    result: TypeAdapter[Any]
    #: The parameters' type hints (the adapters' types), for the codec's adapter of a whole body.
    annotations: dict[str, Any] = field(default_factory=dict, compare=False)

    @cached_property
    def codec(self) -> CallCodec:
        """How calls of this method are written and read (built on first use)."""
        return CallCodec(self.name, self.signature, self.params, self.result, self.annotations)


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
    annotations: dict[str, Any] = {}
    for param in list(signature.parameters.values())[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise NotRemotable(f"service method {where} cannot take *args or **kwargs remotely")
        annotations[param.name] = hints.get(param.name, Any)
        params[param.name] = _adapter(where, param.name, annotations[param.name])
    result = _adapter(where, "return value", hints.get("return", Any))
    parameters = list(signature.parameters.values())[1:]
    return MethodContract(
        name, signature.replace(parameters=parameters), params, result, annotations
    )


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
