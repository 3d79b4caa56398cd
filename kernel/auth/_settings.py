"""Settings of the kernel's security: token algorithms, key files, lifetimes, the role map."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from kernel.auth._permissions import RoleMap
from kernel.config import WebOSSettings
from kernel.errors import ConfigError


class AuthSettings(WebOSSettings):
    """``WEBOS_JWT_*``, ``WEBOS_IDENTITY_*``, ``WEBOS_ACCESS_TOKEN_TTL``, ``WEBOS_ROLES``,
    ``WEBOS_LOGIN_MAX_*``."""

    jwt_algorithm: Literal["HS256", "RS256", "EdDSA"] = Field(
        "HS256", description="Algorithm of access tokens (pinned; never read from a token)."
    )
    jwt_private_key_file: str | None = Field(None, description="RS256/EdDSA signing key.")
    jwt_public_key_file: str | None = Field(None, description="RS256/EdDSA verification key.")
    identity_private_key_file: str | None = Field(None, description="Ed25519 identity key.")
    identity_public_key_file: str | None = Field(None, description="Ed25519 public key.")
    access_token_ttl: float = Field(900, ge=1, description="Access token lifetime, seconds.")
    jwt_leeway: float = Field(10, ge=0, le=300, description="Clock skew allowed, seconds.")
    roles: str | None = Field(None, description='Role map as JSON: {"editor": ["posts.*"]}.')
    login_max_per_account: int = Field(5, ge=1, description="Failed logins per account/15 min.")
    login_max_per_address: int = Field(20, ge=1, description="Failed logins per address/15 min.")

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: str | None) -> str | None:
        try:
            RoleMap.from_json(value, setting="role map")
        except ConfigError as error:
            raise ValueError(str(error)) from None
        return value
