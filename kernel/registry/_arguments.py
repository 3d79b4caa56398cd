"""The serving side's reading of a call's arguments, and what it says when they do not fit.

Every problem is named with its argument (``name: Input should be a valid string``), all of them
at once, so a caller fixing a call from a shell (``webos call``) or another language sees what to
change without reading the method's source. Such an answer carries the code ``400``: the call was
wrong, not the service.
"""

from __future__ import annotations

import json
import reprlib
from typing import Any

from pydantic import ValidationError

from kernel.errors import WebOSError
from kernel.registry._contracts import MethodContract

#: The NATS services error code of an answer refusing a call's arguments.
BAD_ARGUMENTS_CODE = "400"
#: The error type such an answer names (what pydantic raises for the same fault in-process).
BAD_ARGUMENTS_TYPE = "ValidationError"


class InvalidServiceArguments(WebOSError, ValueError):
    """A call's arguments do not fit the method's signature; the message names each one."""

    http_status = 400


def read_arguments(contract: MethodContract, data: bytes | None) -> dict[str, Any]:
    """The validated keyword arguments of a call body ``{"args": {...}}``."""
    fast = contract.codec.decode_args(data)  # one pass for a well-formed call
    if fast is not None:
        return fast
    try:
        body = json.loads(data or b"{}")
    except ValueError:
        raise InvalidServiceArguments("the call's body is not JSON") from None
    raw = body.get("args", {}) if isinstance(body, dict) else None
    if not isinstance(raw, dict):
        raise InvalidServiceArguments('the call\'s body must be {"args": {NAME: VALUE, ...}}')
    problems = [f"unexpected argument {name!r}" for name in sorted(set(raw) - set(contract.params))]
    problems += [
        f"missing argument {name!r}"
        for name, param in contract.signature.parameters.items()
        if param.default is param.empty and name not in raw
    ]
    arguments: dict[str, Any] = {}
    for name, value in raw.items():
        adapter = contract.params.get(name)
        if adapter is None:
            continue
        try:
            arguments[name] = adapter.validate_python(value)
        except ValidationError as error:
            problems += [_problem(name, detail) for detail in error.errors()]
    if problems:
        raise InvalidServiceArguments("; ".join(problems))
    return arguments


def _problem(argument: str, detail: Any) -> str:
    where = ".".join(str(part) for part in (argument, *detail.get("loc", ())))
    return f"{where}: {detail.get('msg', 'invalid')} (got {reprlib.repr(detail.get('input'))})"
