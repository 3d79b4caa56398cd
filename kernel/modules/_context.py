"""What a module's code is handed by the kernel: its name, settings, logger and the shared parts."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from kernel.config import settings_error
from kernel.modules._discovery import Discovery, ModuleSpec
from kernel.modules._manifest import Manifest

#: ``bus.emit`` as a module context uses it: ``(subject, payload, *, source) -> event id``.
Emit = Callable[..., Awaitable[str]]


class ModuleSettings(BaseSettings):
    """Base class for a module's ``settings.py``.

    Values come from ``WEBOS_MOD_<MODULE>_<FIELD>`` (and ``.env``): a prefix the kernel's own
    ``WEBOS_*`` settings never use, so a module cannot shadow a kernel setting by accident. A
    module that must keep documented names of its own sets ``env_prefix`` in its
    ``model_config`` (the auth module keeps ``WEBOS_ADMIN_EMAIL``).
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")


def module_env_prefix(module_name: str) -> str:
    return f"WEBOS_MOD_{module_name.upper()}_"


def load_module_settings(cls: type[ModuleSettings], module_name: str) -> ModuleSettings:
    prefix = str(cls.model_config.get("env_prefix") or module_env_prefix(module_name))
    try:
        return cls(_env_prefix=prefix)  # type: ignore[call-arg]
    except ValidationError as error:
        raise settings_error(error, prefix) from None


class ModuleState(StrEnum):
    DISCOVERED = "discovered"
    LOADED = "loaded"
    STARTING = "starting"
    STARTED = "started"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass
class ModuleContext:
    """Handed to hooks and injectable into a module's route handlers as ``module``."""

    name: str
    manifest: Manifest
    data_dir: Path
    #: The kernel's ``bus.emit``.
    emitter: Emit = field(repr=False)
    settings: ModuleSettings | None = None
    log: logging.Logger = field(init=False)

    def __post_init__(self) -> None:
        self.log = logging.getLogger(f"webos.module.{self.name}")

    async def emit(self, subject: str, payload: Any = None) -> str:
        """Emit an event with this module as its source."""
        return await self.emitter(subject, payload, source=self.name)


@dataclass
class LoadedModule:
    """A module as the kernel tracks it from discovery to shutdown."""

    spec: ModuleSpec
    context: ModuleContext
    state: ModuleState = ModuleState.DISCOVERED
    error: str | None = None
    route_handlers: list[Any] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    def describe(self) -> dict[str, Any]:
        manifest = self.spec.manifest
        return {
            "name": self.name,
            "version": manifest.version,
            "description": manifest.description,
            "depends": list(manifest.depends),
            "emits": list(manifest.emits),
            "files": list(self.spec.files),
            "origin": self.spec.origin,
            "state": self.state.value,
            "error": self.error,
            "services": self.services,
            "subscriptions": self.subscriptions,
        }


@dataclass
class ModuleSet:
    """The modules of one kernel: what this process runs and what runs elsewhere.

    Filled by the runtime's load phases; subsystems read it through ``host.get(ModuleSet)``.
    """

    #: Modules this process runs, in start order.
    running: dict[str, LoadedModule] = field(default_factory=dict)
    #: Discovered modules run by other processes: their services are proxied and (in the
    #: gateway) their routes forwarded.
    elsewhere: dict[str, ModuleSpec] = field(default_factory=dict)
    #: Modules ours depend on that run elsewhere (``/ready`` waits for a live instance).
    external: set[str] = field(default_factory=set)
    discovery: Discovery = field(default_factory=Discovery)
    #: A module of another process as this one sees it (for routes and schemas only).
    describe_elsewhere: Callable[[ModuleSpec], LoadedModule] | None = None

    def elsewhere_module(self, spec: ModuleSpec) -> LoadedModule:
        if self.describe_elsewhere is None:
            raise RuntimeError("the modules are not loaded yet")
        return self.describe_elsewhere(spec)

    def packages(self) -> dict[str, str]:
        """``package -> module name`` of every discovered module (here or elsewhere)."""
        return {spec.package: name for name, spec in self.discovery.modules.items()}
