"""Where documents live: ``WEBOS_MONGO_URL`` (unset: the embedded store) and ``WEBOS_MONGO_DB``."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kernel.config import WebOSSettings


class DatabaseSettings(WebOSSettings):
    model_config = SettingsConfigDict(env_prefix="WEBOS_MONGO_")

    url: str | None = Field(
        None, description="MongoDB URL; unset uses the embedded document store under data_dir."
    )
    db: str = Field("webos", min_length=1, description="Database name.")
