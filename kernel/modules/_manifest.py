"""``module.toml``: one manifest format for modules in a folder and installed packages alike."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kernel.errors import ModuleError
from kernel.modules._service_options import ServiceOptions
from kernel.modules._streams import ModuleStream, check_streams
from kernel.transport import InvalidSubject, normalize_subject

MANIFEST_NAME = "module.toml"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def check_module_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(
            f"invalid module name {name!r}: use lowercase letters, digits and '_', "
            "starting with a letter (it becomes a Python package and a URL segment)"
        )
    return name


class Manifest(BaseModel):
    """Everything a module says about itself before any of its code is imported."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: str = "0.1.0"
    description: str = ""
    depends: tuple[str, ...] = ()
    emits: tuple[str, ...] = Field(
        (), description="Subjects this module publishes (the contract catalog, NATS permissions)."
    )
    sends_tasks_to: tuple[str, ...] = Field(
        (),
        description="Other modules whose tasks this module queues (its own it always may); "
        "a module process may queue no others, and its NATS user gets no right to.",
    )
    streams: dict[str, ModuleStream] = Field(
        default_factory=dict,
        description="JetStream streams of the module's own state, created by the gateway "
        "(``[streams.NAME]``, see _streams.py).",
    )
    services: dict[str, ServiceOptions] = Field(
        default_factory=dict,
        description="How callers treat this module's services: timeout, retries, breaker, "
        "concurrency (``[services.NAME]``, see _service_options.py).",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_module_name(value)

    @field_validator("depends", "sends_tasks_to")
    @classmethod
    def _module_names(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        for name in value:
            check_module_name(name)
        if len(set(value)) != len(value):
            raise ValueError(f"{info.field_name} lists a module twice")
        return value

    @model_validator(mode="after")
    def _not_itself(self) -> Manifest:
        if self.name in self.sends_tasks_to:
            raise ValueError(
                f"sends_tasks_to lists {self.name!r} itself: a module may always queue its own "
                "tasks; list only the other modules whose tasks it queues"
            )
        check_streams(self.name, self.emits, self.streams)
        return self

    @field_validator("emits")
    @classmethod
    def _emits(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            return tuple(normalize_subject(subject, allow_wildcards=True) for subject in value)
        except InvalidSubject as error:
            raise ValueError(str(error)) from None


def read_manifest(text: str, *, default_name: str, where: str) -> Manifest:
    """Parse manifest text; ``where`` names the file in every error."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ModuleError(f"{where}: not valid TOML: {error}", modules=(default_name,)) from None
    data.setdefault("name", default_name)
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or 'manifest'}: {item['msg']}"
            for item in error.errors()
        )
        raise ModuleError(f"{where}: {details}", modules=(default_name,)) from None
    if manifest.name != default_name:
        raise ModuleError(
            f"{where}: name {manifest.name!r} does not match the module's name {default_name!r}",
            modules=(default_name,),
        )
    return manifest


def read_manifest_file(path: Path, default_name: str) -> Manifest:
    return read_manifest(
        path.read_text(encoding="utf-8"), default_name=default_name, where=str(path)
    )
