from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

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
    metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Serve this process's Prometheus metrics on WEBOS_HOST:PORT/metrics, "
        "unauthenticated (docs/observability.md); the gateway also has a guarded /metrics.",
    )
    request_timeout: float = Field(5.0, gt=0, description="Seconds to wait for NATS replies.")
    heartbeat_interval: float = Field(
        2.0, gt=0, le=60, description="Seconds between node heartbeats (dropped after 3 missed)."
    )
    durable_max_deliver: int = Field(
        5, ge=1, le=1000, description="Deliveries of a durable event before it is dead-lettered."
    )
    durable_backoff: float = Field(1.0, gt=0, description="First retry delay, seconds (doubles).")
    durable_backoff_max: float = Field(60.0, gt=0, description="Longest retry delay, seconds.")
    durable_ack_wait: float = Field(
        30.0, gt=0, description="Seconds a durable handler may run before redelivery."
    )
    shutdown_timeout: float = Field(8.0, gt=0, description="Seconds granted to drain on stop.")
    # -- tasks (docs/tasks.md) -----------------------------------------------------------
    tasks_worker: bool | None = Field(
        None, description="Run a task worker inside the gateway (unset: only with embedded NATS)."
    )
    tasks_scheduler: bool | None = Field(
        None,
        description="Run the task scheduler inside the gateway (unset: only with embedded NATS).",
    )
    tasks_concurrency: int = Field(8, ge=1, le=10000, description="Tasks a worker runs at once.")
    tasks_retries: int = Field(3, ge=0, le=100, description="Retries of a failing task (default).")
    tasks_backoff: float = Field(
        1.0, gt=0, description="First task retry delay, seconds (doubles)."
    )
    tasks_backoff_max: float = Field(300.0, gt=0, description="Longest task retry delay, seconds.")
    tasks_ack_wait: float = Field(
        30.0, ge=0.5, description="Seconds without a sign of life before a task is redelivered."
    )
    tasks_result_ttl: float = Field(
        7 * 24 * 3600, ge=1, description="Seconds task status and results are kept."
    )
    tasks_max_age: float = Field(
        7 * 24 * 3600, ge=1, description="Seconds a queued task waits for a worker at most."
    )
    # -- auth (docs/auth.md) -------------------------------------------------------------
    jwt_algorithm: Literal["HS256", "RS256", "EdDSA"] = Field(
        "HS256", description="Algorithm of access tokens (pinned; never read from a token)."
    )
    jwt_private_key_file: str | None = Field(None, description="RS256/EdDSA signing key.")
    jwt_public_key_file: str | None = Field(None, description="RS256/EdDSA verification key.")
    identity_private_key_file: str | None = Field(None, description="Ed25519 identity key.")
    identity_public_key_file: str | None = Field(None, description="Ed25519 public key.")
    access_token_ttl: float = Field(900, ge=1, description="Access token lifetime, seconds.")
    refresh_token_ttl: float = Field(
        14 * 24 * 3600, ge=60, description="Refresh token lifetime, seconds."
    )
    jwt_leeway: float = Field(10, ge=0, le=300, description="Clock skew allowed, seconds.")
    admin_email: str | None = Field(None, description="First admin, created on first start.")
    admin_password: SecretStr | None = Field(None, description="Password of the first admin.")
    self_registration: bool = Field(False, description="Allow POST /api/auth/register.")
    roles: str | None = Field(None, description='Role map as JSON: {"editor": ["posts.*"]}.')
    login_max_per_account: int = Field(5, ge=1, description="Failed logins per account/15 min.")
    login_max_per_address: int = Field(20, ge=1, description="Failed logins per address/15 min.")

    @field_validator("only", "exclude", "cors_origins", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: str | None) -> str | None:
        from kernel.auth import RoleMap

        try:
            RoleMap.from_json(value, setting="role map")
        except ConfigError as error:
            raise ValueError(str(error)) from None
        return value

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

    @property
    def display_nats_url(self) -> str:
        """The NATS URL for logs and messages: credentials never leave the process."""
        return redact_url(self.effective_nats_url)

    def validate_for_start(self) -> None:
        """Checks that need the whole picture rather than one field."""
        if self.env is Environment.PROD and self.secret_key is None:
            raise ConfigError(
                "WEBOS_SECRET_KEY must be set when WEBOS_ENV=prod: the kernel refuses to run in "
                "production with a generated development secret"
            )


def redact_url(url: str) -> str:
    """``nats://user:secret@host:4222`` -> ``nats://user:***@host:4222``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


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
