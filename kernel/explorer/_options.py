"""What a module may say about how its documents appear in the data explorer.

Two places, one shape: an inner ``class Admin`` on the Document, or a ``ModelAdmin`` in the
module's ``admin.py`` (which wins, so a module can configure a document it cannot edit):

    class Contact(Document):
        ...
        class Admin:
            list_columns = ("name", "email")
            search_fields = ("name", "email")

Secrets are hidden whatever the module says: a ``SecretStr``/``SecretBytes`` field, and a field
whose name says it holds one (``password``, ``*_hash``, ``secret``, ``token``), is never shown
and never accepted. ``hidden_fields`` hides more; nothing un-hides those.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretBytes, SecretStr
from pydantic.fields import FieldInfo

#: Field names that hold a secret by their name alone (a hash is a secret too: it can be cracked).
SENSITIVE_NAME = re.compile(r"(^|_)(password|passwd|secret|token)(_|$)|(^|_)hash$")
#: Fields Beanie manages itself: shown, never written by a form.
MANAGED = frozenset({"id", "revision_id"})
_OPTIONS = (
    "hidden",
    "read_only",
    "list_columns",
    "search_fields",
    "read_only_fields",
    "hidden_fields",
    "duplicate_as",
)


@dataclass(frozen=True)
class ModelAdmin:
    """How one Document appears in the explorer (all optional)."""

    document: type[Any] | None = None  # in admin.py: the Document it configures
    hidden: bool = False  # not listed at all, its routes answer 404
    read_only: bool = False  # listed and shown, never created, changed or deleted here
    list_columns: tuple[str, ...] = ()  # default: the first visible fields
    search_fields: tuple[str, ...] = ()  # default: its indexed text fields
    read_only_fields: tuple[str, ...] = ()  # shown, never written by the explorer
    hidden_fields: tuple[str, ...] = ()  # never shown, never accepted
    # A unique index on a derived field reported on the field people type (email_key -> email).
    duplicate_as: dict[str, str] = field(default_factory=dict)


def inner_admin(document: type[Any]) -> ModelAdmin:
    """The options of the Document's own ``class Admin`` (its bases' too), or the defaults."""
    inner = getattr(document, "Admin", None)
    if inner is None:
        return ModelAdmin()
    unknown = sorted(
        name for name in vars(inner) if not name.startswith("_") and name not in _OPTIONS
    )
    if unknown:
        raise TypeError(
            f"{document.__name__}.Admin: unknown option(s) {', '.join(unknown)}; "
            f"known: {', '.join(_OPTIONS)}"
        )
    values = {name: getattr(inner, name) for name in _OPTIONS if hasattr(inner, name)}
    for name in _OPTIONS[2:-1]:
        if name in values:
            values[name] = tuple(values[name])
    return ModelAdmin(**values)


def is_secret(name: str, info: FieldInfo) -> bool:
    """Never shown nor accepted, whatever the module's options say."""
    if SENSITIVE_NAME.search(name):
        return True
    return _mentions_secret(info.annotation)


def _mentions_secret(annotation: Any) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    return any(_mentions_secret(arg) for arg in typing.get_args(annotation))


def check_names(document: type[Any], options: ModelAdmin) -> None:
    """A misspelt field name in the options is a start-up error, not a silently shown field."""
    known = set(document.model_fields) | MANAGED
    named = {
        *options.list_columns,
        *options.search_fields,
        *options.read_only_fields,
        *options.hidden_fields,
        *options.duplicate_as,
        *options.duplicate_as.values(),
    }
    unknown = sorted(named - known)
    if unknown:
        raise TypeError(
            f"admin options of {document.__name__} name unknown field(s) {', '.join(unknown)}; "
            f"its fields: {', '.join(sorted(known))}"
        )
