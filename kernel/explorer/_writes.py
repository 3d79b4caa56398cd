"""Creating, changing and deleting documents: validated by the model, every change an event.

Only editable fields are accepted (a hidden, secret, read-only or managed field sent is an
error, never silently dropped). The model's own validation decides the rest, and its messages
come back per field; a unique-index clash is a field error too, on the field people typed.
Each change is emitted as ``<module>.<model>.changed`` with who did it and which fields, never
their values (they may be personal data): the audit module records it like any event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from beanie import Document, PydanticObjectId
from bson.errors import InvalidId
from pydantic import ValidationError
from pymongo.errors import DuplicateKeyError

from kernel.auth import Principal
from kernel.explorer._problems import DuplicateRecord, InvalidRecord, RecordNotFound
from kernel.explorer._views import FieldView, ModelView
from kernel.modules import ModuleContext


def accepted(view: ModelView, data: Mapping[str, Any], *, form: bool) -> dict[str, Any]:
    """The editable fields of ``data``; ``form``: strings from an HTML form, typed here."""
    editable = {f.name: f for f in view.editable if f.name != "id"}
    errors = {name: "not an editable field" for name in data if name not in editable}
    if errors:
        raise InvalidRecord(errors)
    if not form:
        return dict(data)
    values: dict[str, Any] = {}
    for name, spec in editable.items():
        raw = data.get(name)
        if spec.kind == "bool":
            values[name] = raw is not None  # an unchecked box is not sent at all
        elif raw is None or (raw == "" and not spec.required):
            continue
        else:
            values[name] = _from_form(spec, raw, errors)
    if errors:
        raise InvalidRecord(errors)
    return values


def _from_form(spec: FieldView, raw: str, errors: dict[str, str]) -> Any:
    if spec.kind == "list":
        return [item.strip() for item in raw.split(",") if item.strip()]
    if spec.kind == "json":
        try:
            return json.loads(raw)
        except ValueError as error:
            errors[spec.name] = f"not JSON: {error}"
    return raw


async def find_record(view: ModelView, record: str) -> Document:
    try:
        object_id = PydanticObjectId(record)
    except InvalidId:
        raise RecordNotFound(f"no {view.key} {record!r}") from None
    found = await view.document.get(object_id)
    if found is None:
        raise RecordNotFound(f"no {view.key} {record!r}")
    return found


async def create(
    view: ModelView, values: dict[str, Any], module: ModuleContext, principal: Principal
) -> Document:
    document = _validated(view, values)
    try:
        await document.insert()
    except DuplicateKeyError as error:
        raise DuplicateRecord(duplicate_errors(view, error)) from None
    await _changed(module, view, "created", document, sorted(values), principal)
    return document


async def update(
    view: ModelView,
    document: Document,
    values: dict[str, Any],
    module: ModuleContext,
    principal: Principal,
) -> Document:
    before = view.public(document)
    # Hidden and secret fields keep what they hold: the form never carried them.
    merged = {**document.model_dump(), **values}
    changed = _validated(view, merged)
    changed.id = document.id
    try:
        await changed.replace()
    except DuplicateKeyError as error:
        raise DuplicateRecord(duplicate_errors(view, error)) from None
    after = view.public(changed)
    fields = sorted(name for name in after if after[name] != before.get(name))
    await _changed(module, view, "updated", changed, fields, principal)
    return changed


async def delete(
    view: ModelView, document: Document, module: ModuleContext, principal: Principal
) -> None:
    await document.delete()
    await _changed(module, view, "deleted", document, [], principal)


def _validated(view: ModelView, values: dict[str, Any]) -> Document:
    try:
        return view.document.model_validate(values)
    except ValidationError as error:
        raise InvalidRecord(field_errors(view, error)) from None


def field_errors(view: ModelView, error: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for problem in error.errors(include_url=False, include_input=False):
        location = problem["loc"]
        name = str(location[0]) if location else "record"
        # A derived field's error reads as the typed field's (email_key -> email).
        name = view.options.duplicate_as.get(name, name)
        if name not in view.visible:
            name = "record"  # never name a hidden field, nor echo what it held
        found.setdefault(name, problem["msg"])
    return found


def duplicate_errors(view: ModelView, error: DuplicateKeyError) -> dict[str, str]:
    details = error.details or {}
    clashing = sorted(details.get("keyValue") or details.get("keyPattern") or {}) or ["record"]
    found: dict[str, str] = {}
    for name in clashing:
        name = view.options.duplicate_as.get(name, name)
        if name not in view.visible:
            name = "record"
        found[name] = f"another {view.title.lower()} already has this {name}"
    return found


async def _changed(
    module: ModuleContext,
    view: ModelView,
    action: str,
    document: Document,
    fields: list[str],
    principal: Principal,
) -> None:
    payload = {
        "action": action,
        "model": view.key,
        "id": str(document.id),
        "fields": fields,
        "by": principal.id,
        "by_email": principal.email,
    }
    await module.emit(view.change_subject, payload)
