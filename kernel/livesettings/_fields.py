"""A module's settings as an operator edits them: each field's value, where it comes from, and
the one validation every writer (HTTP, console, CLI) goes through.

Precedence per field: an environment variable (or ``.env``) wins and locks the field, a saved
value comes next, then the default. A locked field refuses a saved value, since it would never
apply. ``SecretStr`` fields are write-only: their value never leaves this file, only whether
one is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import SecretBytes, SecretStr, ValidationError

from kernel.errors import WebOSError
from kernel.modules import ModuleSettings, module_env_prefix

_SECRETS = (SecretStr, SecretBytes)


class SettingsInvalid(WebOSError):
    """Values refused by the module's settings model (or for locked or unknown fields)."""

    http_status = 422

    def __init__(self, module: str, errors: dict[str, str]) -> None:
        self.module = module
        self.errors = errors
        listed = "; ".join(f"{name}: {message}" for name, message in errors.items())
        super().__init__(f"settings of {module!r} not saved: {listed}")


def env_prefix(cls: type[ModuleSettings], module: str) -> str:
    return str(cls.model_config.get("env_prefix") or module_env_prefix(module))


def variable(cls: type[ModuleSettings], module: str, name: str) -> str:
    return f"{env_prefix(cls, module)}{name}".upper()


def from_environment(cls: type[ModuleSettings], module: str) -> dict[str, Any]:
    """The values the environment sets now (a process that loaded the module keeps those it
    loaded with: ``SETTINGS_ENVIRONMENT``). pydantic-settings passes every value its sources
    found (variables, ``.env``, secrets folders) to the model: they are the fields set."""
    try:
        loaded = cls(_env_prefix=env_prefix(cls, module))  # type: ignore[call-arg]
    except ValidationError as error:
        raise SettingsInvalid(module, _field_errors(error)) from None
    return {name: getattr(loaded, name) for name in loaded.model_fields_set}


def is_secret(cls: type[ModuleSettings], name: str) -> bool:
    annotation = cls.model_fields[name].annotation
    args = getattr(annotation, "__args__", ()) or ()
    return annotation in _SECRETS or any(arg in _SECRETS for arg in args)


def build(
    cls: type[ModuleSettings], module: str, saved: dict[str, Any], environment: dict[str, Any]
) -> ModuleSettings:
    """The settings object of ``module``: ``environment`` over ``saved`` over defaults.
    Validated without reading the environment again (``model_validate`` runs no sources)."""
    chosen = {
        name: value
        for name, value in saved.items()
        if name not in environment and name in cls.model_fields
    }
    try:
        return cls.model_validate({**chosen, **environment})
    except ValidationError as error:
        raise SettingsInvalid(module, _field_errors(error)) from None


def _field_errors(error: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "__root__"
        found.setdefault(name, item["msg"])
    return found


def merge(
    cls: type[ModuleSettings],
    module: str,
    saved: dict[str, Any],
    changes: dict[str, Any],
    environment: dict[str, Any],
) -> dict[str, Any]:
    """The values to save: ``saved`` with ``changes``, validated by the module's model, each
    changed value as the model reads it (``"5"`` saved as ``5``). Raises :class:`SettingsInvalid`
    naming each refused field; nothing is saved then."""
    errors: dict[str, str] = {}
    for name in changes:
        if name not in cls.model_fields:
            known = ", ".join(cls.model_fields) or "none"
            errors[name] = f"no such setting (settings of {module!r}: {known})"
        elif name in environment:
            errors[name] = (
                f"set by the environment variable {variable(cls, module, name)}; "
                "unset it to change this setting here"
            )
    if errors:
        raise SettingsInvalid(module, errors)
    merged = {**saved, **changes}
    built = build(cls, module, merged, environment)
    as_json = built.model_dump(mode="json")
    result = dict(saved)
    for name in changes:
        value = getattr(built, name)
        result[name] = _plain(value) if is_secret(cls, name) else as_json[name]
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, SecretBytes):
        return value.get_secret_value().decode()
    return value


@dataclass(frozen=True)
class FieldView:
    """One field as the console and ``GET /api/system/settings/{module}`` show it."""

    name: str
    type: str
    description: str | None
    default: Any
    value: Any
    source: str  # env | saved | default
    locked: bool
    variable: str
    secret: bool
    is_set: bool

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _type_name(annotation: Any) -> str:
    name = getattr(annotation, "__name__", None)
    return name if name and not getattr(annotation, "__args__", None) else repr(annotation)


def describe(
    cls: type[ModuleSettings], module: str, saved: dict[str, Any], environment: dict[str, Any]
) -> list[FieldView]:
    """Every field with its current value and source; a secret's value and default never."""
    locked = frozenset(environment)
    try:
        current = build(cls, module, saved, environment)
    except SettingsInvalid:  # saved by another version of the module: show the environment's
        current = build(cls, module, {}, environment)
    views = []
    for name, field in cls.model_fields.items():
        secret = is_secret(cls, name)
        value = getattr(current, name)
        source = "env" if name in locked else "saved" if name in saved else "default"
        default = None if field.is_required() else field.get_default(call_default_factory=True)
        views.append(
            FieldView(
                name=name,
                type=_type_name(field.annotation).replace("typing.", ""),
                description=field.description,
                default=None if secret else _jsonable(default),
                value=None if secret else _jsonable(value),
                source=source,
                locked=name in locked,
                variable=variable(cls, module, name),
                secret=secret,
                is_set=value is not None and _plain(value) not in ("", b""),
            )
        )
    return views


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return str(value)
