"""Settings of the kernel's security: token algorithms, key files, lifetimes, the role map."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from kernel.auth._addresses import parse_networks
from kernel.auth._permissions import RoleMap
from kernel.config import CsvList, WebOSSettings, split_csv
from kernel.errors import ConfigError


class AuthSettings(WebOSSettings):
    """``WEBOS_JWT_*``, ``WEBOS_SECRET_KEY``, ``WEBOS_IDENTITY_*``, ``WEBOS_ACCESS_TOKEN_TTL``,
    ``WEBOS_ROLES``, ``WEBOS_LOGIN_*``, ``WEBOS_TRUSTED_PROXIES``."""

    jwt_algorithm: Literal["HS256", "RS256", "EdDSA"] = Field(
        "EdDSA", description="Algorithm of access tokens (pinned; never read from a token)."
    )
    secret_key: SecretStr | None = Field(
        None, description="HS256 secret of access tokens: the gateway's only, and only for HS256."
    )
    jwt_private_key_file: str | None = Field(None, description="RS256/EdDSA signing key.")
    jwt_public_key_file: str | None = Field(None, description="RS256/EdDSA verification key.")
    identity_private_key_file: str | None = Field(None, description="Ed25519 identity key.")
    identity_public_key_file: str | None = Field(None, description="Ed25519 public key.")
    access_token_ttl: float = Field(900, ge=1, description="Access token lifetime, seconds.")
    jwt_leeway: float = Field(10, ge=0, le=300, description="Clock skew allowed, seconds.")
    identity_ttl: float = Field(
        60,
        ge=1,
        le=3600,
        description="Lifetime of a signed identity, seconds: how long a process that handled "
        "someone's message can act for them.",
    )
    roles: str | None = Field(None, description='Role map as JSON: {"editor": ["posts.*"]}.')
    login_max_per_pair: int = Field(
        5, ge=1, description="Failed logins per account and address in 15 minutes, then 429."
    )
    login_max_per_address: int = Field(
        20, ge=1, description="Failed logins per address in 15 minutes, then 429."
    )
    login_slow_after: int = Field(
        5, ge=1, description="Failed logins per account in 15 minutes before each attempt waits."
    )
    login_max_delay: float = Field(
        5.0, ge=0, le=60, description="Longest wait of a slowed-down account, seconds."
    )
    trusted_proxies: CsvList = Field(
        default_factory=list,
        description="Proxies whose X-Forwarded-For is believed (addresses or networks).",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return split_csv(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        parse_networks(value)
        return value

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: str | None) -> str | None:
        try:
            RoleMap.from_json(value, setting="role map")
        except ConfigError as error:
            raise ValueError(str(error)) from None
        return value
