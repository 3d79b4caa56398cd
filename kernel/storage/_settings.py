"""Mount configuration from the environment (``WEBOS_STORAGE_*``).

Two mounts come from flat variables because almost every deployment has them: ``local`` (always)
and ``s3`` (when ``WEBOS_STORAGE_S3_ENDPOINT`` is set). Anything else goes in the JSON variable
``WEBOS_STORAGE_MOUNTS``, one object per mount with a ``kind`` key; its other keys are options
for that kind's factory, checked when AFS is built because kinds can be added by hooks.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from kernel.config import WebOSSettings

from ._errors import InvalidURN
from ._local import DEFAULT_LOCAL_ROOT
from ._urn import validate_mount

ENV_PREFIX = "WEBOS_STORAGE_"


class StorageSettings(WebOSSettings):
    """Settings of :func:`build_afs`; every field maps to ``WEBOS_STORAGE_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX)

    local_root: str = Field(DEFAULT_LOCAL_ROOT, description="Folder of the 'local' mount.")
    s3_endpoint: str | None = Field(
        None, description="host:port or http(s)://host:port; unset means no 's3' mount."
    )
    s3_bucket: str = Field("webos", description="Bucket of the 's3' mount.")
    s3_access_key: SecretStr | None = Field(None, description="Access key of the 's3' mount.")
    s3_secret_key: SecretStr | None = Field(None, description="Secret key of the 's3' mount.")
    s3_region: str | None = Field(None, description="Region; unset uses us-east-1.")
    s3_secure: bool = Field(False, description="Use TLS for a host:port endpoint.")
    presign_secret: SecretStr | None = Field(
        None,
        description="Signs local presigned URLs; only processes that make or serve them need it.",
    )
    mounts: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description='Extra mounts as JSON: {"name": {"kind": "s3"|"local"|..., ...options}}.',
    )

    @field_validator("mounts")
    @classmethod
    def _check_mounts(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, options in value.items():
            try:
                validate_mount(name)
            except InvalidURN as exc:
                raise ValueError(f"{ENV_PREFIX}MOUNTS: {exc}") from None
            if name in ("local", "s3"):
                raise ValueError(
                    f"{ENV_PREFIX}MOUNTS: mount {name!r} is reserved; use the "
                    f"{ENV_PREFIX}{'LOCAL_ROOT' if name == 'local' else 'S3_*'} variables"
                )
            if not isinstance(options.get("kind"), str):
                raise ValueError(f'{ENV_PREFIX}MOUNTS["{name}"] needs a "kind" string')
        return value

    @model_validator(mode="after")
    def _s3_needs_keys(self) -> StorageSettings:
        if self.s3_endpoint:
            missing = [
                f"{ENV_PREFIX}{name.upper()}"
                for name in ("s3_access_key", "s3_secret_key")
                if not getattr(self, name) or not getattr(self, name).get_secret_value()
            ]
            if missing:
                raise ValueError(
                    f"{' and '.join(missing)} must be set when {ENV_PREFIX}S3_ENDPOINT is set"
                )
        return self

    def mount_specs(self) -> dict[str, dict[str, Any]]:
        """Every mount as ``{name: {"kind": ..., **options}}``, secrets unwrapped."""
        specs: dict[str, dict[str, Any]] = {"local": {"kind": "local", "root": self.local_root}}
        if self.s3_endpoint:
            access, secret = self.s3_access_key, self.s3_secret_key
            if access is None or secret is None:  # unreachable: the validator refused it
                raise ValueError(f"{ENV_PREFIX}S3_ACCESS_KEY and _SECRET_KEY are required")
            specs["s3"] = {
                "kind": "s3",
                "endpoint": self.s3_endpoint,
                "bucket": self.s3_bucket,
                "access_key": access.get_secret_value(),
                "secret_key": secret.get_secret_value(),
                "region": self.s3_region,
                "secure": self.s3_secure,
            }
        specs.update({name: dict(options) for name, options in self.mounts.items()})
        return specs
