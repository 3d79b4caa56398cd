"""How a process reaches NATS (``WEBOS_NATS_URL``, or the embedded server's port; how long its
first contact may take), and how many copies JetStream keeps of the kernel's streams
(``WEBOS_JETSTREAM_REPLICAS``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from kernel.config import WebOSSettings, redact_url
from kernel.transport._connect import CONNECT_TIMEOUT
from kernel.transport._credentials import embedded_dir, read_credentials
from kernel.transport._servers import InvalidNatsUrl, nats_servers

REPLICAS_VARIABLE = "WEBOS_JETSTREAM_REPLICAS"


class NatsSettings(WebOSSettings):
    """``WEBOS_NATS_*``."""

    model_config = SettingsConfigDict(env_prefix="WEBOS_NATS_")

    url: str | None = Field(
        None,
        description="NATS server URL, or several separated by commas (a cluster's nodes); unset "
        "starts an embedded nats-server.",
    )
    port: int = Field(4222, ge=1, le=65535, description="Port of the embedded nats-server.")
    monitor_port: int | None = Field(
        None, ge=1, le=65535, description="HTTP monitoring port of the embedded nats-server."
    )
    connect_timeout: float = Field(
        CONNECT_TIMEOUT,
        gt=0,
        le=300,
        description="Seconds a command or process tries to reach NATS at first before it fails "
        "with 'cannot reach NATS'.",
    )
    wait: bool = Field(
        False,
        description="Keep trying to reach NATS at first, until reached or stopped, instead of "
        "failing after WEBOS_NATS_CONNECT_TIMEOUT (what --wait does for one command).",
    )

    @field_validator("url")
    @classmethod
    def _servers(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                nats_servers(value)
            except InvalidNatsUrl as error:
                raise ValueError(error.reason) from None
        return value

    @property
    def embedded(self) -> bool:
        return self.url is None

    @property
    def effective_url(self) -> str:
        """Where NATS is, without the embedded server's credentials (see :meth:`client_url`)."""
        return self.url or f"nats://127.0.0.1:{self.port}"

    def client_url(self, data_dir: str | Path) -> str:
        """The URL a process connects with: ``WEBOS_NATS_URL``, or the embedded server's with the
        credentials ``webos run`` keeps in ``data_dir`` (ConfigError when there are none)."""
        if self.url is not None:
            return self.url
        return read_credentials(embedded_dir(data_dir)).url("127.0.0.1", self.port)

    @property
    def display_url(self) -> str:
        """The NATS URL (every one of a list) for logs and messages: credentials never leave the
        process."""
        return redact_url(self.effective_url)


class JetStreamSettings(WebOSSettings):
    """``WEBOS_JETSTREAM_*``."""

    model_config = SettingsConfigDict(env_prefix="WEBOS_JETSTREAM_")

    replicas: int = Field(
        1,
        ge=1,
        le=5,
        description="Copies of every stream and KV bucket the kernel creates, on as many "
        "servers of a JetStream cluster (1 on a single server).",
    )
