"""A service call's bytes, written and read by pydantic straight from and to the typed values.

The wire format is the one ``_remote.py`` describes: ``{"args": {NAME: VALUE, ...}}`` for a call,
``{"result": VALUE}`` for its answer. Encoding and decoding go through each method's pydantic
adapters in one pass (``dump_json``, ``validate_json``) rather than through Python dicts and the
``json`` module: on the path of every call, on both sides.

Reading takes the fast way only when it succeeds: anything else (a body from another client
with other spacing, an invalid argument, an error answer) is read again the general way, so
what a caller or a server says about a bad message is the same whichever way it came in.
"""

from __future__ import annotations

import inspect
import json
from typing import Any, NotRequired, Required

from pydantic import ConfigDict, TypeAdapter, ValidationError
from pydantic.errors import PydanticSchemaGenerationError
from typing_extensions import TypedDict  # pydantic needs it, not typing's, before 3.12

_RESULT_HEAD = b'{"result":'
_typed_dict: Any = TypedDict


class CallCodec:
    """The encoders and fast decoders of one method (built once per method)."""

    def __init__(
        self,
        name: str,
        signature: inspect.Signature,
        params: dict[str, TypeAdapter[Any]],
        result: TypeAdapter[Any],
        annotations: dict[str, Any],
    ) -> None:
        self._signature = signature
        self._params = params
        self._result = result
        self._names = tuple(params)
        # Each argument's key as JSON, ready to be joined with its value.
        self._keys = {param: json.dumps(param).encode() + b":" for param in params}
        # Positional calls of plain parameters (the usual ``proxy.method(value)``) skip
        # ``Signature.bind``; anything else (keywords, defaults left out) goes through it.
        self._positional = all(
            p.kind is p.POSITIONAL_OR_KEYWORD for p in signature.parameters.values()
        )
        self._body = _body_adapter(name, signature, annotations) if annotations else None

    # -- the caller's side -------------------------------------------------------------------

    def encode_args(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
        """The call's body; the arguments are validated first (as pydantic raises them)."""
        if not kwargs and self._positional and len(args) == len(self._names):
            arguments: dict[str, Any] = dict(zip(self._names, args, strict=True))
        else:
            arguments = self._signature.bind(*args, **kwargs).arguments
        params, keys = self._params, self._keys
        parts = []
        for name, value in arguments.items():
            adapter = params[name]
            parts.append(keys[name] + adapter.dump_json(adapter.validate_python(value)))
        return b'{"args":{' + b",".join(parts) + b"}}"

    def decode_result(self, data: bytes) -> tuple[Any, dict[str, Any] | None]:
        """``(result, None)``, or ``(None, answer)`` with the answer as a dict when it is not a
        plain result (an error, or a result this fast reading could not take)."""
        if data.startswith(_RESULT_HEAD) and data.endswith(b"}"):
            try:
                # A slice that parses as one JSON value means the body was exactly
                # {"result": VALUE}; anything else fails here and is read below.
                return self._result.validate_json(data[len(_RESULT_HEAD) : -1]), None
            except ValidationError:
                pass  # read again below, which says what is wrong the usual way
        answer = json.loads(data)
        return None, answer if isinstance(answer, dict) else {"result": answer}

    # -- the server's side -------------------------------------------------------------------

    def decode_args(self, data: bytes | None) -> dict[str, Any] | None:
        """The validated arguments of a well-formed call; None when anything is off (the
        caller then reads the body the general way, to name each problem)."""
        if self._body is None or not data:
            return None
        try:
            body = self._body.validate_json(data)
        except ValidationError:
            return None
        arguments: dict[str, Any] = body["args"]
        return arguments

    def encode_result(self, value: Any) -> bytes:
        return _RESULT_HEAD + self._result.dump_json(value) + b"}"


def _body_adapter(
    name: str, signature: inspect.Signature, annotations: dict[str, Any]
) -> TypeAdapter[Any] | None:
    """An adapter of the whole body ``{"args": {...}}``: every required argument present, none
    unknown. None when the parameters cannot be described that way."""
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        if param.name not in annotations:
            return None
        hint = annotations[param.name]
        fields[param.name] = Required[hint] if param.default is param.empty else NotRequired[hint]
    try:
        # Functional syntax, through an untyped name: the fields are only known here.
        args = _typed_dict(f"{name}_args", fields)
        args.__pydantic_config__ = ConfigDict(extra="forbid")
        return TypeAdapter(_typed_dict(f"{name}_body", {"args": args}))
    except (PydanticSchemaGenerationError, TypeError):
        # A type pydantic takes alone but not inside a TypedDict: such a method's calls are
        # read the general way.
        return None
