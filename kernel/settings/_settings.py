"""The settings of a whole process, composed from the settings each package owns.

``KernelSettings`` is :class:`~kernel.config.CoreSettings` plus one field per package
(``settings.tasks``, ``settings.nats``, ...); each part reads its own ``WEBOS_*`` variables. A
setting is named after its environment variable everywhere: ``WEBOS_TASKS_CONCURRENCY`` is
``settings.tasks.concurrency``, and ``KernelSettings(tasks_concurrency=4)`` (the variable without
``WEBOS_``, lower case) sets it, which is how the command line and tests override one setting.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, ValidationError, model_validator

from kernel.auth import AuthSettings
from kernel.bus import BusSettings, DurableSettings
from kernel.config import (
    CoreSettings,
    WebOSSettings,
    error_lines,
    invalid_settings,
    settings_error,
)
from kernel.db import DatabaseSettings
from kernel.forwarding import ForwardingSettings
from kernel.gateway import GatewaySettings
from kernel.modules import ModulesSettings
from kernel.nodes import NodesSettings
from kernel.registry import ServicesSettings
from kernel.storage import StorageSettings
from kernel.tasks import TasksSettings
from kernel.telemetry import TelemetrySettings
from kernel.transport import JetStreamSettings, NatsSettings


class KernelSettings(CoreSettings):
    """Every setting of a kernel process. Modules get their own (``WEBOS_MOD_<NAME>_``)."""

    nats: NatsSettings = Field(default_factory=NatsSettings)
    modules: ModulesSettings = Field(default_factory=ModulesSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    forwarding: ForwardingSettings = Field(default_factory=ForwardingSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    durable: DurableSettings = Field(default_factory=DurableSettings)
    nodes: NodesSettings = Field(default_factory=NodesSettings)
    tasks: TasksSettings = Field(default_factory=TasksSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    bus: BusSettings = Field(default_factory=BusSettings)
    jetstream: JetStreamSettings = Field(default_factory=JetStreamSettings)
    service: ServicesSettings = Field(default_factory=ServicesSettings)

    # Part fields are named so that no WEBOS_ variable matches them (WEBOS_METRICS is a switch).
    #: Field name -> its part's class, for routing ``name_field`` overrides.
    PARTS: ClassVar[dict[str, type[WebOSSettings]]] = {
        "nats": NatsSettings,
        "modules": ModulesSettings,
        "gateway": GatewaySettings,
        "forwarding": ForwardingSettings,
        "auth": AuthSettings,
        "durable": DurableSettings,
        "nodes": NodesSettings,
        "tasks": TasksSettings,
        "database": DatabaseSettings,
        "storage": StorageSettings,
        "telemetry": TelemetrySettings,
        "bus": BusSettings,
        "jetstream": JetStreamSettings,
        "service": ServicesSettings,
    }

    @model_validator(mode="before")
    @classmethod
    def _compose(cls, data: Any) -> Any:
        """Build each part from the environment plus the overrides meant for it."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        wanted: dict[str, dict[str, Any]] = {name: {} for name in cls.PARTS}
        for key in [key for key in data if key not in cls.model_fields]:
            name, field = _route(key)
            wanted[name][field] = data.pop(key)
        problems: list[str] = []
        for name, part in cls.PARTS.items():
            given = data.get(name)
            if isinstance(given, part) and not wanted[name]:
                continue
            if isinstance(given, dict):
                wanted[name] = {**given, **wanted[name]}
            try:
                data[name] = part(**wanted[name])
            except ValidationError as error:
                problems += error_lines(error, part.env_prefix())
        if problems:
            raise invalid_settings(problems)
        return data

    def override(self, **changes: Any) -> KernelSettings:
        """A copy with ``changes`` (named after their variables, like the constructor's); what was
        left to its default stays so."""
        values: dict[str, Any] = {
            name: getattr(self, name) for name in self.model_fields_set if name not in self.PARTS
        }
        for name in self.PARTS:
            part = getattr(self, name)
            prefix = _flat_prefix(type(part))
            values.update(
                {f"{prefix}{field}": getattr(part, field) for field in part.model_fields_set}
            )
        values.update(changes)
        return type(self)(**values)


def _flat_prefix(part: type[WebOSSettings]) -> str:
    return part.env_prefix().removeprefix("WEBOS_").lower()


def _route(key: str) -> tuple[str, str]:
    for name, part in KernelSettings.PARTS.items():
        prefix = _flat_prefix(part)
        field = key.removeprefix(prefix) if key.startswith(prefix) else None
        if field in part.model_fields:
            return name, field
    raise invalid_settings([f"WEBOS_{key.upper()}: no such setting"])


def load_settings(**overrides: Any) -> KernelSettings:
    """Read settings from the environment; raise ConfigError naming each bad variable."""
    try:
        return KernelSettings(**overrides)
    except ValidationError as error:
        raise settings_error(error) from None
