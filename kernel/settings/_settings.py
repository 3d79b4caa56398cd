from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from kernel.errors import ConfigError

ENV_PREFIX = "WEBOS_"


class Environment(StrEnum):
    DEV = "dev"
    PROD = "prod"


def _split_csv(value: Any) -> Any:
    # Lists in environment variables are written as "a,b,c": JSON arrays are awkward in shells.
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]


class KernelSettings(BaseSettings):
    """Every setting of the kernel itself. Modules get their own prefix (``WEBOS_MOD_<NAME>_``)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    env: Environment = Field(Environment.DEV, description="dev or prod")
    host: str = Field("127.0.0.1", description="Address the gateway listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the gateway listens on.")
    nats_url: str | None = Field(
        None, description="NATS server URL; unset starts an embedded nats-server."
    )
    nats_port: int = Field(4222, ge=1, le=65535, description="Port of the embedded nats-server.")
    nats_monitor_port: int | None = Field(
        None, ge=1, le=65535, description="HTTP monitoring port of the embedded nats-server."
    )
    mongo_url: str | None = Field(
        None, description="MongoDB URL; unset uses the embedded document store under data_dir."
    )
    mongo_db: str = Field("webos", min_length=1, description="Database name.")
    data_dir: Path = Field(Path(".webos"), description="Where embedded services keep their data.")
    modules_path: Path = Field(Path("modules"), description="Folder scanned for modules.")
    only: CsvList = Field(default_factory=list, description="Run only these modules.")
    exclude: CsvList = Field(default_factory=list, description="Do not run these modules.")
    secret_key: SecretStr | None = Field(None, description="Signing secret; required in prod.")
    cors_origins: CsvList = Field(default_factory=list, description="Allowed CORS origins.")
    max_body_size: int = Field(
        10 * 1024 * 1024, ge=1, description="Largest request body the gateway accepts, in bytes."
    )
    log_level: str = Field("INFO", description="Root log level.")
    event_log: bool = Field(False, description="Log every event handled at INFO (costly).")
    request_timeout: float = Field(5.0, gt=0, description="Seconds to wait for NATS replies.")
    shutdown_timeout: float = Field(8.0, gt=0, description="Seconds granted to drain on stop.")

    @field_validator("only", "exclude", "cors_origins", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return upper

    @property
    def embedded_nats(self) -> bool:
        return self.nats_url is None

    @property
    def effective_nats_url(self) -> str:
        return self.nats_url or f"nats://127.0.0.1:{self.nats_port}"

    def validate_for_start(self) -> None:
        """Checks that need the whole picture rather than one field."""
        if self.env is Environment.PROD and self.secret_key is None:
            raise ConfigError(
                "WEBOS_SECRET_KEY must be set when WEBOS_ENV=prod: the kernel refuses to run in "
                "production with a generated development secret"
            )


def settings_error(error: ValidationError, prefix: str = ENV_PREFIX) -> ConfigError:
    """Turn pydantic's error into one naming the environment variables a user must fix."""
    lines = []
    for item in error.errors():
        field = "_".join(str(part) for part in item["loc"] if isinstance(part, str))
        variable = f"{prefix}{field}".upper()
        given = item.get("input")
        shown = "" if isinstance(given, dict) else f" (got {given!r})"
        lines.append(f"{variable}: {item['msg']}{shown}")
    return ConfigError("invalid settings:\n  " + "\n  ".join(lines))


def load_settings(**overrides: Any) -> KernelSettings:
    """Read settings from the environment; raise ConfigError naming each bad variable."""
    try:
        return KernelSettings(**overrides)
    except ValidationError as error:
        raise settings_error(error) from None
