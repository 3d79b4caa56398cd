"""Every explorable Document of a process, and what the explorer shows and accepts of each."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from kernel.auth import Principal, has_permission
from kernel.explorer._options import MANAGED, ModelAdmin, check_names, inner_admin, is_secret
from kernel.explorer._problems import ModelNotFound, WritePermissionMissing

if TYPE_CHECKING:
    from beanie import Document
else:
    # Litestar (msgspec) resolves these dataclasses' annotations at run time; Beanie loads only in
    # a process with a models.py, and every Document is a pydantic model.
    Document = BaseModel

#: How many columns a list shows when the module names none.
DEFAULT_COLUMNS = 5


def model_name(document: type[Document]) -> str:
    """``Contact`` -> ``contact``: the model's name in URLs and permissions."""
    return document.__name__.lower()


def change_subject(module: str, model: str) -> str:
    return f"{module}.{model}.changed"


@dataclass(frozen=True)
class FieldView:
    name: str
    kind: str  # text | number | bool | datetime | list | json
    required: bool
    read_only: bool


@dataclass(frozen=True, eq=False)
class ModelView:
    """One Document as the explorer shows it to people holding its permissions."""

    module: str
    document: type[Document]
    options: ModelAdmin

    @property
    def name(self) -> str:
        return model_name(self.document)

    @property
    def key(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def title(self) -> str:
        return self.document.__name__

    @property
    def change_subject(self) -> str:
        """Emitted on every change made through the explorer (the audit module records it)."""
        return change_subject(self.module, self.name)

    @property
    def read_permission(self) -> str:
        return f"{self.key}.read"

    @property
    def write_permission(self) -> str:
        return f"{self.key}.write"

    def can_read(self, principal: Principal) -> bool:
        return has_permission(principal, self.read_permission)

    def can_write(self, principal: Principal) -> bool:
        return not self.options.read_only and has_permission(principal, self.write_permission)

    def require_write(self, principal: Principal) -> None:
        if self.options.read_only:
            raise WritePermissionMissing(f"{self.key} is read-only in the data explorer")
        if not has_permission(principal, self.write_permission):
            raise WritePermissionMissing(f"missing permission {self.write_permission}")

    @cached_property
    def fields(self) -> tuple[FieldView, ...]:
        """Visible fields in the model's order, ``id`` first; secrets and hidden ones left out."""
        found = [FieldView("id", "text", required=False, read_only=True)]
        for name, info in self.document.model_fields.items():
            if name in MANAGED or name in self.options.hidden_fields or is_secret(name, info):
                continue
            read_only = name in self.options.read_only_fields
            found.append(FieldView(name, _kind(info.annotation), info.is_required(), read_only))
        return tuple(found)

    @cached_property
    def visible(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)

    @cached_property
    def editable(self) -> tuple[FieldView, ...]:
        return tuple(f for f in self.fields if not f.read_only)

    @cached_property
    def columns(self) -> tuple[str, ...]:
        chosen = [c for c in self.options.list_columns if c in self.visible]
        return tuple(chosen or [f.name for f in self.fields][: DEFAULT_COLUMNS + 1])

    @cached_property
    def search_fields(self) -> tuple[str, ...]:
        if self.options.search_fields:
            return tuple(f for f in self.options.search_fields if f in self.visible)
        return tuple(
            name
            for name, info in self.document.model_fields.items()
            if name in self.visible
            and _is_indexed(info.metadata)
            and _kind(info.annotation) == "text"
        )

    def public(self, document: Document) -> dict[str, Any]:
        """What anyone may read of one document: visible fields only, as JSON values."""
        dumped = document.model_dump(mode="json", include=set(self.visible) - {"id"})
        return {"id": str(document.id), **dumped}

    def describe(self, principal: Principal) -> dict[str, Any]:
        return {
            "module": self.module,
            "model": self.name,
            "title": self.title,
            "fields": [f.__dict__ for f in self.fields],
            "columns": list(self.columns),
            "search_fields": list(self.search_fields),
            "writable": self.can_write(principal),
        }


def _kind(annotation: Any) -> str:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return _kind(args[0]) if len(args) == 1 else "json"
    if annotation is bool:
        return "bool"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "json"  # a nested model: edited as a JSON object
    if annotation in (int, float):
        return "number"
    if annotation in (datetime, date):
        return "datetime"
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return "list"
    if origin is dict or annotation is dict:
        return "json"
    return "text"


def _is_indexed(metadata: Iterable[Any]) -> bool:
    return any(type(m).__name__.startswith("Indexed") for m in metadata)


@dataclass
class Explorer:
    """The explorable Documents of this process (and, in the gateway, of modules elsewhere)."""

    views: dict[str, ModelView] = field(default_factory=dict)

    def add(self, module: str, documents: Iterable[type[Document]]) -> None:
        for document in documents:
            self.configure(module, document, inner_admin(document))

    def configure(self, module: str, document: type[Document], options: ModelAdmin) -> None:
        check_names(document, options)
        view = ModelView(module, document, options)
        self.views[view.key] = view

    def of_module(self, module: str) -> list[ModelView]:
        return [v for v in self.views.values() if v.module == module]

    def readable(self, principal: Principal) -> list[ModelView]:
        shown = [v for v in self.views.values() if not v.options.hidden and v.can_read(principal)]
        return sorted(shown, key=lambda v: v.key)

    def view(self, module: str, model: str, principal: Principal) -> ModelView:
        """The model, if this principal may read it; 404 alike for unknown and unreadable ones,
        so a caller cannot learn which models exist."""
        found = self.views.get(f"{module}.{model}")
        if found is None or found.options.hidden or not found.can_read(principal):
            raise ModelNotFound(f"no model {module}.{model}")
        return found
