"""Settings plumbing shared by every package, and the settings of the process itself.

Each package owns the settings it reads (``kernel.tasks.TasksSettings``, ``kernel.bus.
DurableSettings``, ...), as a :class:`WebOSSettings` subclass whose fields are named after their
environment variables; ``kernel.settings.KernelSettings`` composes them. The names users set never
change with that layout: ``WEBOS_TASKS_CONCURRENCY`` is ``TasksSettings.concurrency`` under the
prefix ``WEBOS_TASKS_``, and :func:`settings_error` names it so in every message.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from kernel.errors import ConfigError

ENV_PREFIX = "WEBOS_"


class Environment(StrEnum):
    DEV = "dev"
    PROD = "prod"


def split_csv(value: Any) -> Any:
    """``a,b,c`` -> a list: JSON arrays are awkward to write in shells."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


#: A list read from ``a,b,c``; validate the field with :func:`split_csv` (mode "before").
CsvList = Annotated[list[str], NoDecode]


class WebOSSettings(BaseSettings):
    """Base of every settings class of the kernel: ``WEBOS_*`` variables and ``.env``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    @classmethod
    def env_prefix(cls) -> str:
        return str(cls.model_config.get("env_prefix") or "")


class CoreSettings(WebOSSettings):
    """What every process reads, whatever it runs."""

    env: Environment = Field(Environment.DEV, description="dev or prod")
    host: str = Field("127.0.0.1", description="Address the gateway (and metrics) listen on.")
    data_dir: Path = Field(Path(".webos"), description="Where embedded services keep their data.")
    log_level: str = Field("INFO", description="Root log level.")
    event_log: bool = Field(False, description="Log every event handled at INFO (costly).")
    request_timeout: float = Field(5.0, gt=0, description="Seconds to wait for NATS replies.")
    shutdown_timeout: float = Field(
        8.0, gt=0, description="Seconds the whole stop of a process may take, from the signal."
    )

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return upper

    def validate_for_start(self) -> None:
        """Checks that need the whole picture rather than one field.

        None today: each part checks the secrets it uses when it starts (security the token and
        identity keys, storage the presign secret), so a process is never asked for a secret it
        does not need.
        """


#: ``scheme://userinfo@``: who connects (``user:password``, or a token).
#: Up to the host's ``@`` (the last one: a password may hold one), as ``urlsplit`` reads it.
_WITH_SCHEME = re.compile(r"^(?P<lead>\s*[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#]*)@")
#: ``user:password@host`` written without a scheme (an e-mail address has no colon: kept).
_WITHOUT_SCHEME = re.compile(r"^(?P<lead>\s*)(?P<userinfo>[^/?#:]*:[^/?#]*)@")


def redact_url(url: str) -> str:
    """Every URL in ``url`` (one, or a comma-separated list such as ``WEBOS_NATS_URL``) without its
    secret: ``nats://user:secret@host:4222`` -> ``nats://user:***@host:4222``; a token
    (``nats://secret@host``) -> ``nats://***@host``. Never raises, whatever the text."""
    return ",".join(_redact(part) for part in url.split(","))


def _redact(part: str) -> str:
    for pattern in (_WITH_SCHEME, _WITHOUT_SCHEME):
        found = pattern.match(part)
        if found is not None:
            user, separator, _ = found["userinfo"].partition(":")
            hidden = f"{user}:***" if separator else "***"
            return f"{found['lead']}{hidden}@{part[found.end() :]}"
    return part


def error_lines(error: ValidationError, prefix: str = ENV_PREFIX) -> list[str]:
    """One line per problem, naming the environment variable a user must fix."""
    lines = []
    for item in error.errors():
        field = "_".join(str(part) for part in item["loc"] if isinstance(part, str))
        variable = f"{prefix}{field}".upper()
        given = item.get("input")
        # A URL's password must not reach a log or a terminal through an error about it.
        shown = "" if isinstance(given, dict) else f" (got {_redacted(given)!r})"
        lines.append(f"{variable}: {item['msg']}{shown}")
    return lines


def _redacted(given: Any) -> Any:
    return redact_url(given) if isinstance(given, str) else given


def settings_error(error: ValidationError, prefix: str = ENV_PREFIX) -> ConfigError:
    """Turn pydantic's error into one naming the environment variables a user must fix."""
    return invalid_settings(error_lines(error, prefix))


def invalid_settings(lines: list[str]) -> ConfigError:
    return ConfigError("invalid settings:\n  " + "\n  ".join(lines))


__all__ = [
    "ENV_PREFIX",
    "CoreSettings",
    "CsvList",
    "Environment",
    "WebOSSettings",
    "error_lines",
    "invalid_settings",
    "redact_url",
    "settings_error",
    "split_csv",
]
