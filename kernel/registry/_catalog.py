"""What the services on the bus offer, read from the NATS services protocol's ``$SRV.INFO``.

Each endpoint ``webos.svc.<service>.<method>`` carries in its metadata the JSON schemas of its
arguments (one object, a property per argument, ``required`` naming those without a default) and
of its result, built from the method's contract: the same pydantic adapters that validate a call.
So ``webos services``, ``nats micro info`` and any other client see a method's signature without
importing the module's code, and a process that does not run (or even install) a module can
still describe it.

NATS metadata values are strings: each schema travels as compact JSON.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from kernel.registry._contracts import MethodContract

#: The request every NATS micro service answers with its description.
INFO_SUBJECT = "$SRV.INFO"
#: Endpoint metadata keys of the schemas.
ARGS_SCHEMA = "args_schema"
RESULT_SCHEMA = "result_schema"
#: Where pydantic puts the models a schema refers to.
DEFS = "$defs"


def contract_schemas(contract: MethodContract) -> dict[str, str]:
    """The endpoint metadata of ``contract``: its arguments' and its result's JSON schemas."""
    defs: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for name, adapter in contract.params.items():
        schema = adapter.json_schema(ref_template=f"#/{DEFS}/{{model}}")
        defs.update(schema.pop(DEFS, {}))
        properties[name] = schema
    required = [
        name
        for name, param in contract.signature.parameters.items()
        if param.default is param.empty
    ]
    arguments: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    if defs:
        arguments[DEFS] = defs
    result = contract.result.json_schema(ref_template=f"#/{DEFS}/{{model}}")
    return {
        ARGS_SCHEMA: json.dumps(arguments, separators=(",", ":")),
        RESULT_SCHEMA: json.dumps(result, separators=(",", ":")),
    }


@dataclass
class ServiceMethod:
    """One method offered on the bus, and how many processes offer it."""

    service: str
    method: str
    module: str
    subject: str
    args_schema: dict[str, Any]
    result_schema: dict[str, Any]
    instances: set[str] = field(default_factory=set)

    def signature(self) -> str:
        """``greet(name: string) -> string``: argument and result types from the schemas."""
        properties = self.args_schema.get("properties", {})
        required = set(self.args_schema.get("required", []))
        shown = [
            f"{name}: {type_name(schema)}{'' if name in required else ' = ...'}"
            for name, schema in properties.items()
        ]
        return f"{self.method}({', '.join(shown)}) -> {type_name(self.result_schema)}"


def type_name(schema: dict[str, Any]) -> str:
    """A short name for a JSON schema's type: ``string``, ``Receipt``, ``array[integer]``,
    ``string | null``; ``any`` when it names none."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for union in ("anyOf", "oneOf"):
        if union in schema:
            return " | ".join(type_name(part) for part in schema[union])
    kind = schema.get("type")
    if kind == "object" and "title" in schema:  # a model: its name says more than "object"
        return str(schema["title"])
    if kind == "array":
        return f"array[{type_name(schema.get('items', {}))}]"
    if isinstance(kind, list):
        return " | ".join(map(str, kind))
    return str(kind) if kind else "any"


def _methods_of(info: dict[str, Any]) -> list[ServiceMethod]:
    found = []
    module = str(info.get("metadata", {}).get("module", ""))
    for endpoint in info.get("endpoints") or []:
        meta = endpoint.get("metadata") or {}
        if "service" not in meta or "method" not in meta:
            continue  # another program's micro service, or an endpoint WebOS did not make
        found.append(
            ServiceMethod(
                service=meta["service"],
                method=meta["method"],
                module=module,
                subject=str(endpoint.get("subject", "")),
                args_schema=_schema(meta.get(ARGS_SCHEMA)),
                result_schema=_schema(meta.get(RESULT_SCHEMA)),
                instances={str(info.get("id", ""))},
            )
        )
    return found


def _schema(text: str | None) -> dict[str, Any]:
    try:
        schema = json.loads(text) if text else {}
    except ValueError:
        return {}  # an older process's endpoint carries none: its types show as ``any``
    return schema if isinstance(schema, dict) else {}


async def list_services(connection: Any, *, wait: float) -> list[ServiceMethod]:
    """Every method the services on the bus offer, gathered from the ``$SRV.INFO`` answers that
    arrive within ``wait`` seconds (one per serving process), sorted by service and method."""
    answers: list[bytes] = []

    async def keep(msg: Any) -> None:
        answers.append(msg.data)

    inbox = connection.new_inbox()
    subscription = await connection.subscribe(inbox, cb=keep)
    try:
        await connection.publish(INFO_SUBJECT, b"", reply=inbox)
        await connection.flush()
        await asyncio.sleep(wait)
    finally:
        await subscription.unsubscribe()
    merged: dict[tuple[str, str], ServiceMethod] = {}
    for data in answers:
        try:
            info = json.loads(data)
        except ValueError:
            continue  # not a micro service's answer: nothing to list
        for method in _methods_of(info if isinstance(info, dict) else {}):
            key = (method.service, method.method)
            if key in merged:
                merged[key].instances |= method.instances
            else:
                merged[key] = method
    return [merged[key] for key in sorted(merged)]
