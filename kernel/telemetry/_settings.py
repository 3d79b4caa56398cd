"""What WebOS reads for telemetry, beside the standard ``OTEL_*`` variables the SDK reads itself.

Every field is a ``WEBOS_*`` variable named after it (``trace_sample_ratio`` is
``WEBOS_TRACE_SAMPLE_RATIO``). An empty variable counts as unset: compose passes unset ones through
as empty strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from kernel.config import ENV_PREFIX, WebOSSettings, settings_error


class TelemetrySettings(WebOSSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True)

    metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Serve this process's Prometheus metrics on WEBOS_HOST:PORT/metrics, "
        "unauthenticated (docs/observability.md); the gateway also has a guarded /metrics.",
    )
    metrics: bool = Field(
        False, description="Record metrics (also on with a metrics exporter or a metrics port)."
    )
    tracing: bool = Field(
        False, description="Record spans even with no exporter (trace ids in every log line)."
    )
    trace_file: str | None = Field(
        None,
        description="Also append finished spans to this file as JSON lines (tests, local looks); "
        "several processes may share it.",
    )
    trace_sample_ratio: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="Share of new traces recorded (0..1); a trace started elsewhere follows its "
        "caller's decision. Unsampled work costs a flag check; its traceparent still travels.",
    )


class _Given(TelemetrySettings):
    """Only the values passed in: no environment variable, no ``.env``."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def read_telemetry_settings(environ: Mapping[str, str] | None = None) -> TelemetrySettings:
    """The settings in ``environ`` (default: the process's environment and ``.env``).

    Raises ``ConfigError`` naming the variable when a value is invalid, so start-up stops.
    """
    try:
        if environ is None:
            return TelemetrySettings()
        # Only what ``environ`` says: a mapping given by a caller (tests) is the whole picture.
        given: dict[str, Any] = {
            name: value.strip()
            for name in TelemetrySettings.model_fields
            if (value := environ.get(f"{ENV_PREFIX}{name.upper()}", "")).strip()
        }
        return _Given(**given)
    except ValidationError as error:
        raise settings_error(error, ENV_PREFIX) from None
