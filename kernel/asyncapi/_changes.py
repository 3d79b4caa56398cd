"""What changed between two catalogs, and which of it breaks someone.

A subject's schema is read both ways. Payloads already in flight or stored in the stream (and
those of a producer's instances not yet upgraded) reach consumers built on the new model: a new
required field without a default, or a narrowed type, rejects them. New payloads reach consumers
built on the old one: a removed or retyped required field, or one no longer required, breaks
them. A widened type is safe for the declared schema; a typed consumer that does not accept it
is still caught, by the check of every consumer against every producer of its subject.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from kernel.asyncapi._compat import describe, schema_problems
from kernel.asyncapi._model import (
    Channel,
    Consumer,
    Producer,
    Schema,
    ServiceMethod,
    SystemContracts,
)
from kernel.transport import covers


@dataclass(frozen=True)
class Change:
    """One difference between two catalogs, ``breaking`` when someone may stop working."""

    kind: Literal["breaking", "safe"]
    subject: str
    message: str
    #: The modules it concerns: producers first, then consumers (or a service's owner).
    modules: tuple[str, ...] = ()

    def __str__(self) -> str:
        names = f" [{', '.join(self.modules)}]" if self.modules else ""
        return f"{self.kind}: {self.subject}: {self.message}{names}"


def mismatches(contracts: SystemContracts) -> list[str]:
    """Each typed consumer that would reject what a producer of its subject declares, as one
    line naming the subject, both modules and the fields."""
    found = []
    for channel in contracts.channels.values():
        for producer, consumer, problems in _pairs(channel):
            if problems:
                found.append(
                    f"{channel.subject}: {consumer.module}'s handler {consumer.handler} does not "
                    f"accept what {producer.module} declares: {'; '.join(problems)}"
                )
    return found


def compare(old: SystemContracts, new: SystemContracts) -> list[Change]:
    """The changes from ``old`` to ``new``: breaking ones first, each group by subject."""
    changes: list[Change] = []
    for subject in sorted(set(old.channels) | set(new.channels)):
        before, after = old.channels.get(subject), new.channels.get(subject)
        if before is None:
            assert after is not None
            changes.append(Change("safe", subject, "new subject", _modules(after)))
        elif after is None:
            changes += _removed(before, new)
        else:
            changes += _channel_changes(before, after)
    changes += _service_changes(old.services, new.services)
    return sorted(changes, key=lambda change: change.kind != "breaking")


def _removed(before: Channel, new: SystemContracts) -> Iterator[Change]:
    """A subject no module declares or consumes by name any more."""
    left = [
        c
        for channel in new.channels.values()
        for c in channel.consumers
        if covers(c.pattern, before.subject)
    ]
    named = sorted({c.module for c in left if c.pattern == before.subject})
    if named:
        yield Change("breaking", before.subject, "removed, and still consumed", tuple(named))
    else:
        listening = (
            f" ({', '.join(sorted({c.pattern for c in left}))} still listen)" if left else ""
        )
        yield Change("safe", before.subject, f"removed{listening}", _modules(before))


def _channel_changes(before: Channel, after: Channel) -> Iterator[Change]:
    subject = after.subject
    producers_before = {p.module for p in before.producers}
    producers_after = {p.module for p in after.producers}
    if producers_before and not producers_after and after.consumers:
        consumers = tuple(sorted({c.module for c in after.consumers}))
        names = ", ".join(sorted(producers_before))
        yield Change("breaking", subject, f"no module emits it any more ({names} did)", consumers)
    for module in sorted(producers_after - producers_before):
        yield Change("safe", subject, f"new producer {module}", (module,))
    for module in sorted(producers_before - producers_after):
        if producers_after:
            yield Change("safe", subject, f"{module} no longer emits it", (module,))
    old_handlers = {(c.module, c.handler) for c in before.consumers}
    new_handlers = {(c.module, c.handler) for c in after.consumers}
    for module, handler in sorted(new_handlers - old_handlers):
        yield Change("safe", subject, f"new consumer {handler}", (module,))
    for module, handler in sorted(old_handlers - new_handlers):
        yield Change("safe", subject, f"consumer {handler} removed", (module,))
    if after.producers and (before.schema is not None or after.schema is not None):
        for kind, message in _field_changes(before.schema, after.schema, ""):
            yield Change(kind, subject, message, _modules(after))
    verdicts_before = {(p.module, c.handler): bool(problems) for p, c, problems in _pairs(before)}
    for producer, consumer, problems in _pairs(after):
        refused_before = verdicts_before.get((producer.module, consumer.handler))
        if problems and refused_before is not True:  # a refusal known before is not a change
            verb = "does not accept" if refused_before is None else "no longer accepts"
            yield Change(
                "breaking",
                subject,
                f"{consumer.module}'s handler {consumer.handler} {verb} what {producer.module} "
                f"declares: {'; '.join(problems)}",
                (producer.module, consumer.module),
            )


def _field_changes(
    old: Schema | None, new: Schema | None, path: str
) -> Iterator[tuple[Literal["breaking", "safe"], str]]:
    """How the declared schema changed: field by field for objects, else as a whole."""
    where = f"field {path!r}" if path else "the payload"
    if old is None or new is None:
        yield (
            ("safe" if old is None else "breaking"),
            (f"{where} now has a declared schema" if old is None else f"{where} lost its schema"),
        )
        return
    old_fields, new_fields = _fields(old), _fields(new)
    if old_fields is None or new_fields is None:
        yield from _type_change(old, new, where)
        return
    (old_props, old_required), (new_props, new_required) = old_fields, new_fields
    for name in sorted(set(old_props) | set(new_props)):
        field = f"{path}.{name}" if path else name
        if name not in new_props:
            if name in old_required:
                yield "breaking", f"removed required field {field!r}"
            else:
                yield "safe", f"removed optional field {field!r}"
        elif name not in old_props:
            if name in new_required:
                yield "breaking", f"new required field {field!r} without a default"
            else:
                yield "safe", f"new optional field {field!r}"
        else:
            if name in old_required and name not in new_required:
                yield "breaking", f"field {field!r} is no longer required"
            elif name in new_required and name not in old_required:
                yield "breaking", f"field {field!r} is now required (it has no default)"
            yield from _field_changes(
                _within(old, old_props[name]), _within(new, new_props[name]), field
            )


def _type_change(
    old: Schema, new: Schema, where: str
) -> Iterator[tuple[Literal["breaking", "safe"], str]]:
    narrowed = schema_problems(old, new)  # what was sent before, the new schema refuses
    widened = schema_problems(new, old)  # what may be sent now, the old schema refused
    was, now = describe(old), describe(new)
    if narrowed and widened:
        yield "breaking", f"{where} retyped from {was} to {now}"
    elif narrowed:
        yield "breaking", f"{where} narrowed: {'; '.join(narrowed)}"
    elif widened:
        yield "safe", f"{where} widened from {was} to {now}"


def _fields(schema: Schema) -> tuple[dict[str, Schema], set[str]] | None:
    """An object schema's properties and required names, its ``$ref`` followed; None for any
    other schema (a union, a list...), compared as a whole."""
    resolved = _deref(schema)
    if "properties" not in resolved:
        return None
    return dict(resolved["properties"]), set(resolved.get("required", ()))


def _deref(schema: Schema) -> Schema:
    ref = schema.get("$ref", "")
    if ref.startswith("#/$defs/"):
        return {**schema.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {}), **schema}
    return schema


def _within(root: Schema, schema: Schema) -> Schema:
    """A field's schema, carrying its root's ``$defs`` so its ``$ref`` still resolves."""
    defs = root.get("$defs")
    return {**schema, "$defs": defs} if defs and "$defs" not in schema else schema


def _pairs(channel: Channel) -> Iterator[tuple[Producer, Consumer, list[str]]]:
    """Each typed producer with each consumer, and why the consumer would refuse its payloads.
    A producer declared in the manifest only promises nothing, so nothing is held against it."""
    for producer in channel.producers:
        if producer.schema is None:
            continue
        for consumer in channel.consumers:
            yield producer, consumer, schema_problems(producer.schema, consumer.schema)


def _modules(channel: Channel) -> tuple[str, ...]:
    names = [p.module for p in channel.producers]
    names += [c.module for c in channel.consumers if c.module not in names]
    return tuple(dict.fromkeys(names))


def _service_changes(old: list[ServiceMethod], new: list[ServiceMethod]) -> Iterator[Change]:
    before = {(m.service, m.method): m for m in old}
    after = {(m.service, m.method): m for m in new}
    for key in sorted(set(before) | set(after)):
        name = f"{key[0]}.{key[1]}"
        was, now = before.get(key), after.get(key)
        if now is None:
            assert was is not None
            yield Change("breaking", name, "service method removed", (was.module,))
        elif was is None:
            yield Change("safe", name, "new service method", (now.module,))
        else:
            refused = schema_problems(was.args_schema, now.args_schema)
            if refused:
                yield Change(
                    "breaking", name, f"arguments narrowed: {'; '.join(refused)}", (now.module,)
                )
            changed = schema_problems(now.result_schema, was.result_schema)
            if changed:
                yield Change(
                    "breaking", name, f"result changed: {'; '.join(changed)}", (now.module,)
                )
