"""The auth module's own settings. They keep the names the README documents (``WEBOS_ADMIN_EMAIL``
rather than ``WEBOS_MOD_AUTH_ADMIN_EMAIL``), hence the explicit prefix."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from kernel import ModuleSettings


class AuthModuleSettings(ModuleSettings):
    model_config = SettingsConfigDict(env_prefix="WEBOS_")

    admin_email: str | None = Field(None, description="First admin, created on first start.")
    admin_password: SecretStr | None = Field(None, description="Password of the first admin.")
    self_registration: bool = Field(False, description="Allow POST /api/auth/register.")
    refresh_token_ttl: float = Field(
        14 * 24 * 3600, ge=60, description="Refresh token lifetime, seconds."
    )
