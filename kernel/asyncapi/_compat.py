"""Would a consumer accept what a producer may send? Answered from their JSON schemas.

``schema_problems(producer, consumer)`` lists each way a payload the producer's schema allows
could be rejected by the consumer's: a field the consumer requires that the producer does not
send or may leave out, a type, enum or bound the consumer narrows, a field it forbids. It reads
the schemas pydantic writes (objects with ``properties``/``required``, ``anyOf`` for unions and
``Optional``, ``const``/``enum``, ``$ref`` into ``$defs``) and errs on the side of reporting: a
keyword it does not understand on the consumer's side is reported, never ignored.

A producer's payload is what its model dumps, so its object has exactly the declared fields:
a consumer forbidding extra fields (``extra="forbid"``) is only at odds with fields it lacks.
``None`` stands for "no schema": any JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kernel.asyncapi._model import Schema

#: Keywords that describe a schema without constraining it.
_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "example", "deprecated", "readOnly",
     "writeOnly", "$comment", "$schema", "$id", "$defs", "definitions", "discriminator"}
)  # fmt: skip
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_EXACT = ("pattern", "format", "multipleOf", "uniqueItems")
_HANDLED = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "enum", "const",
     "anyOf", "oneOf", "allOf", "$ref", *_LOWER_BOUNDS, *_UPPER_BOUNDS, *_EXACT}
)  # fmt: skip


@dataclass(frozen=True)
class _Side:
    """A schema with the root its ``$ref`` pointers resolve against."""

    schema: Schema
    root: Schema

    def at(self, schema: Schema) -> _Side:
        return _Side(schema, self.root)


def schema_problems(producer: Schema | None, consumer: Schema | None) -> list[str]:
    """Why ``consumer`` could reject a payload ``producer`` allows; empty when it never would."""
    if consumer is None:
        return []
    if producer is None:
        producer = {}
    return list(_problems(_Side(producer, producer), _Side(consumer, consumer), "", set()))


def describe(schema: Schema | None) -> str:
    """A short name of a schema's type: ``string``, ``integer | null``, ``one of 'a', 'b'``."""
    if schema is None:
        return "any JSON"
    side = _Side(schema, schema)
    return _describe(_resolve(side))


def _problems(p: _Side, c: _Side, path: str, seen: set[tuple[int, int]]) -> Iterator[str]:
    p, c = _flat(_resolve(p)), _flat(_resolve(c))
    key = (id(p.schema), id(c.schema))
    if key in seen:  # a recursive model: this pair is being compared further up
        return
    seen = seen | {key}
    if _accepts_anything(c.schema):
        return
    where = f"field {path!r}" if path else "the payload"
    producer_union = _branches(p, "anyOf") or _branches(p, "oneOf")
    if producer_union:
        for branch in producer_union:
            yield from _problems(_merged(p, branch), c, path, seen)
        return
    consumer_union = _branches(c, "anyOf") or _branches(c, "oneOf")
    if consumer_union:
        attempts = [list(_problems(p, _merged(c, b), path, seen)) for b in consumer_union]
        if all(attempts):
            best = min(attempts, key=len)
            yield from (
                best
                if len(best) == 1
                else [f"{where} may be {_describe(p)}, which {_describe(c)} does not accept"]
            )
        return
    if _accepts_anything(p.schema):
        yield f"{where} may be any JSON (the producer sets no schema); expected {_describe(c)}"
        return
    yield from _value_problems(p.schema, c.schema, where)
    if _types(c.schema) and not _types_fit(_types(p.schema), _types(c.schema)):
        yield f"{where} may be {_describe(p)}, expected {_describe(c)}"
        return
    yield from _bound_problems(p.schema, c.schema, where)
    if "object" in (_types(p.schema) or {"object"}) and _is_object(c.schema):
        yield from _object_problems(p, c, path, seen)
    if "items" in c.schema:
        p_items = p.schema.get("items", {})
        yield from _problems(p.at(p_items), c.at(c.schema["items"]), f"{path}[]", seen)
    for keyword in sorted(set(c.schema) - _HANDLED - _ANNOTATIONS):
        if c.schema[keyword] != p.schema.get(keyword):
            yield f"{where}: the consumer's schema has {keyword!r}, which the producer's lacks"


def _object_problems(p: _Side, c: _Side, path: str, seen: set[tuple[int, int]]) -> Iterator[str]:
    p_props: dict[str, Schema] = p.schema.get("properties", {})
    c_props: dict[str, Schema] = c.schema.get("properties", {})
    p_required = set(p.schema.get("required", ()))
    for name in c.schema.get("required", ()):
        field = _join(path, name)
        if name not in p_props:
            yield f"field {field!r} is required, and the producer does not send it"
        elif name not in p_required:
            yield f"field {field!r} is required, and the producer may leave it out"
    extra = c.schema.get("additionalProperties", True)
    for name, schema in p_props.items():
        if name in c_props:
            yield from _problems(p.at(schema), c.at(c_props[name]), _join(path, name), seen)
        elif extra is False:
            yield f"field {_join(path, name)!r} is sent by the producer, and not accepted"
        elif isinstance(extra, dict):
            yield from _problems(p.at(schema), c.at(extra), _join(path, name), seen)
    p_extra = p.schema.get("additionalProperties")
    if isinstance(extra, dict) and isinstance(p_extra, dict):
        yield from _problems(p.at(p_extra), c.at(extra), _join(path, "*"), seen)
    elif extra is False and isinstance(p_extra, dict) and not c_props:
        yield f"{'field ' + repr(path) if path else 'the payload'} may have entries, none accepted"


def _value_problems(p: Schema, c: Schema, where: str) -> Iterator[str]:
    allowed = _values(c)
    if allowed is None:
        return
    sent = _values(p)
    if sent is None:
        yield f"{where} may be any {_describe_types(p)}, expected one of {_listing(allowed)}"
        return
    refused = [value for value in sent if value not in allowed]
    if refused:
        yield f"{where} may be {_listing(refused)}, expected one of {_listing(allowed)}"


def _bound_problems(p: Schema, c: Schema, where: str) -> Iterator[str]:
    for keyword in (*_LOWER_BOUNDS, *_UPPER_BOUNDS, *_EXACT):
        if keyword not in c:
            continue
        if keyword in p and (
            p[keyword] >= c[keyword]
            if keyword in _LOWER_BOUNDS
            else p[keyword] <= c[keyword]
            if keyword in _UPPER_BOUNDS
            else p[keyword] == c[keyword]
        ):
            continue
        has = f"has {p[keyword]!r}" if keyword in p else "does not"
        yield f"{where}: the consumer requires {keyword} {c[keyword]!r}, the producer {has}"


# -- reading schemas ----------------------------------------------------------------------------


def _resolve(side: _Side) -> _Side:
    """Follow ``$ref`` (``#/$defs/Name``, or any JSON pointer into the root) to its target;
    keywords next to the ``$ref`` win over the target's (JSON Schema 2020-12)."""
    schema = side.schema
    hops = 0
    while "$ref" in schema:
        target = _pointer(side.root, schema["$ref"])
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **rest}
        hops += 1
        if hops > 64:
            raise ValueError(f"$ref {side.schema['$ref']!r} refers to itself")
    return side.at(schema)


def _pointer(root: Schema, ref: str) -> Schema:
    if not ref.startswith("#"):
        raise ValueError(f"cannot follow $ref {ref!r}: only references inside the schema are read")
    node: Any = root
    for part in ref.lstrip("#").strip("/").split("/") if ref.strip("#/") else ():
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise ValueError(f"cannot follow $ref {ref!r}: {part!r} is not in the schema")
        node = node[part]
    if not isinstance(node, dict):
        raise ValueError(f"$ref {ref!r} does not name a schema")
    return node


def _branches(side: _Side, keyword: str) -> list[_Side]:
    return [side.at(branch) for branch in side.schema.get(keyword, ())]


def _merged(outer: _Side, branch: _Side) -> _Side:
    """A union member with its parent's other keywords (``default``, ``title``...) kept."""
    rest = {k: v for k, v in outer.schema.items() if k not in ("anyOf", "oneOf", "allOf")}
    return outer.at({**rest, **_resolve(branch).schema})


def _flat(side: _Side) -> _Side:
    """``allOf`` merged into one schema: pydantic writes it with one member only (a model with
    a description of its own), so a plain merge is exact there."""
    while "allOf" in side.schema:
        rest = {k: v for k, v in side.schema.items() if k != "allOf"}
        for member in side.schema["allOf"]:
            rest = {**_resolve(side.at(member)).schema, **rest}
        side = side.at(rest)
    return side


def _accepts_anything(schema: Schema) -> bool:
    return schema is True or not (set(schema) - _ANNOTATIONS)


def _types(schema: Schema) -> set[str]:
    declared = schema.get("type")
    if declared is None:
        values = _values(schema)
        return {_json_type(v) for v in values} if values is not None else set()
    return {declared} if isinstance(declared, str) else set(declared)


def _types_fit(sent: set[str], accepted: set[str]) -> bool:
    if not sent:  # the producer does not say: it may send any type
        return False
    return all(t in accepted or (t == "integer" and "number" in accepted) for t in sent)


def _is_object(schema: Schema) -> bool:
    return "object" in _types(schema) or any(
        k in schema for k in ("properties", "required", "additionalProperties")
    )


def _values(schema: Schema) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return list(schema["enum"])
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names.get(type(value), "string")


def _describe(side: _Side) -> str:
    union = _branches(side, "anyOf") or _branches(side, "oneOf")
    if union:
        return " | ".join(_describe(_resolve(_merged(side, b))) for b in union)
    values = _values(side.schema)
    if values is not None:
        return repr(values[0]) if len(values) == 1 else f"one of {_listing(values)}"
    return _describe_types(side.schema)


def _describe_types(schema: Schema) -> str:
    types = sorted(_types(schema))
    return " | ".join(types) if types else "any JSON"


def _listing(values: list[Any]) -> str:
    return ", ".join(repr(v) for v in values)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
