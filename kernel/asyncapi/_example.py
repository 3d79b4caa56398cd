"""An example payload for a JSON schema: what the console's Catalog shows next to the schema.

Deterministic (the same schema always gives the same example), so a page or a saved document
does not change between builds. The schema's own ``examples``, ``example``, ``default``,
``const`` or first ``enum`` value wins; otherwise a value of its type that satisfies the usual
bounds (``minimum``, ``minLength``, ``minItems``) and the common string formats.
"""

from __future__ import annotations

from typing import Any

from kernel.asyncapi._model import Schema

#: Values for string formats, each valid for its format (RFC 3339, RFC 5322, RFC 4122...).
FORMATS = {
    "email": "user@example.org",
    "idn-email": "user@example.org",
    "date-time": "2026-01-01T12:00:00Z",
    "date": "2026-01-01",
    "time": "12:00:00Z",
    "duration": "PT1H",
    "uuid": "123e4567-e89b-42d3-a456-426614174000",
    "uri": "https://example.org/",
    "iri": "https://example.org/",
    "uri-reference": "/path",
    "hostname": "example.org",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "binary": "",
    "byte": "",
}
#: How deep a recursive model (a tree of nodes) is followed before the example stops.
MAX_DEPTH = 8


def example_payload(schema: Schema | None) -> Any:
    """A payload valid for ``schema`` (``None``, no schema: any JSON, so ``None``)."""
    if schema is None:
        return None
    return _example(schema, schema, (), 0)


def _example(schema: Any, root: Schema, refs: tuple[str, ...], depth: int) -> Any:
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref in refs:  # a model that contains itself: stop at the first repetition
            return None
        return _example(_resolve(root, ref), root, (*refs, ref), depth + 1)
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return _example(_first_not_null(schema[key]), root, refs, depth + 1)
    if isinstance(schema.get("allOf"), list):
        return _all_of(schema["allOf"], root, refs, depth)
    kind = _type(schema)
    if kind == "object":
        return _object(schema, root, refs, depth)
    if kind == "array":
        return _array(schema, root, refs, depth)
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        return _number(schema, kind)
    if kind == "boolean":
        return True
    return None


def _resolve(root: Schema, ref: str) -> Any:
    """A local reference (``#/$defs/Name``); anything else cannot be followed offline."""
    if not ref.startswith("#/"):
        return None
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _first_not_null(options: list[Any]) -> Any:
    return next((o for o in options if not (isinstance(o, dict) and _type(o) == "null")), None)


def _type(schema: Schema) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and ("properties" in schema or "additionalProperties" in schema):
        return "object"
    if kind is None and ("items" in schema or "prefixItems" in schema):
        return "array"
    return kind if isinstance(kind, str) else None


def _object(schema: Schema, root: Schema, refs: tuple[str, ...], depth: int) -> dict[str, Any]:
    properties = schema.get("properties")
    if isinstance(properties, dict) and properties:
        return {name: _example(sub, root, refs, depth + 1) for name, sub in properties.items()}
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        return {"key": _example(extra, root, refs, depth + 1)}
    return {}


def _array(schema: Schema, root: Schema, refs: tuple[str, ...], depth: int) -> list[Any]:
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list):
        return [_example(item, root, refs, depth + 1) for item in prefix]
    items = schema.get("items")
    if not isinstance(items, dict):
        return []
    if items.get("$ref") in refs and not schema.get("minItems"):
        return []  # a model listing its own kind: an empty list ends the example
    count = max(1, int(schema.get("minItems", 1)))
    value = _example(items, root, refs, depth + 1)
    return [value] * count


def _all_of(parts: list[Any], root: Schema, refs: tuple[str, ...], depth: int) -> Any:
    values = [_example(part, root, refs, depth + 1) for part in parts]
    if values and all(isinstance(value, dict) for value in values):
        merged: dict[str, Any] = {}
        for value in values:
            merged.update(value)
        return merged
    return values[0] if values else None


def _string(schema: Schema) -> str:
    value = FORMATS.get(str(schema.get("format", "")), "string")
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    if len(value) < low:
        value += "x" * (low - len(value))
    if isinstance(high, int) and len(value) > high:
        value = value[:high]
    return value


def _number(schema: Schema, kind: str) -> int | float:
    value: float = 0
    if "minimum" in schema:
        value = schema["minimum"]
    elif "exclusiveMinimum" in schema:
        value = schema["exclusiveMinimum"] + 1
    elif "maximum" in schema and schema["maximum"] < 0:
        value = schema["maximum"]
    elif "exclusiveMaximum" in schema and schema["exclusiveMaximum"] <= 0:
        value = schema["exclusiveMaximum"] - 1
    return int(value) if kind == "integer" else float(value)
