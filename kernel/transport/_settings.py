"""How a process reaches NATS: ``WEBOS_NATS_URL``, or the embedded server's port."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kernel.config import WebOSSettings, redact_url
from kernel.transport._credentials import embedded_dir, read_credentials


class NatsSettings(WebOSSettings):
    """``WEBOS_NATS_*``."""

    model_config = SettingsConfigDict(env_prefix="WEBOS_NATS_")

    url: str | None = Field(
        None, description="NATS server URL; unset starts an embedded nats-server."
    )
    port: int = Field(4222, ge=1, le=65535, description="Port of the embedded nats-server.")
    monitor_port: int | None = Field(
        None, ge=1, le=65535, description="HTTP monitoring port of the embedded nats-server."
    )

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
        """The NATS URL for logs and messages: credentials never leave the process."""
        return redact_url(self.effective_url)
