"""What the auth module stores. Never a password, a refresh token or an API key in clear."""

from datetime import UTC, datetime
from typing import Annotated, Any

from beanie import Document, Indexed
from pydantic import Field, model_validator

from kernel.auth import RefreshRecord


def _now() -> datetime:
    return datetime.now(UTC)


def email_key(email: str) -> str:
    """The normalised form unique indexes and look-ups use (the embedded store has no collation)."""
    return email.strip().lower()


class User(Document):
    email: str  # as typed, for display
    email_key: Annotated[str, Indexed(unique=True)] = ""
    password_hash: str  # argon2id
    roles: list[str] = Field(default_factory=lambda: ["user"])
    active: bool = True
    # Bumped when the password changes or the account is disabled: older access tokens stop working.
    token_version: int = 0
    created_at: datetime = Field(default_factory=_now)

    @model_validator(mode="before")
    @classmethod
    def _normalise_email(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            data = {**data, "email_key": email_key(data["email"])}
        return data

    class Settings:
        name = "auth_users"

    # The data explorer shows accounts, never changes them: roles, disabling and passwords go
    # through the auth routes, which keep their rules (token_version, nobody edits themselves).
    class Admin:
        read_only = True
        hidden_fields = ("password_hash", "email_key", "token_version")
        list_columns = ("email", "roles", "active", "created_at")
        search_fields = ("email",)


class RefreshToken(Document):
    token_hash: Annotated[str, Indexed(unique=True)]  # SHA-256 of the token
    family: Annotated[str, Indexed()]  # every token descending from one login
    user_id: Annotated[str, Indexed()]
    expires_at: datetime
    used_at: datetime | None = None
    revoked: bool = False
    created_at: datetime = Field(default_factory=_now)

    def record(self) -> RefreshRecord:
        return RefreshRecord(
            token_hash=self.token_hash,
            family=self.family,
            subject=self.user_id,
            expires_at=self.expires_at,
            used_at=self.used_at,
            revoked=self.revoked,
        )

    class Settings:
        name = "auth_refresh_tokens"

    class Admin:
        hidden = True  # sessions are the auth routes' business


class ApiKey(Document):
    prefix: Annotated[str, Indexed(unique=True)]  # shown in lists, finds the record
    key_hash: str  # SHA-256 of the whole key
    user_id: Annotated[str, Indexed()]
    name: str = ""
    permissions: list[str] = Field(default_factory=list)  # a subset of the creator's
    revoked: bool = False
    created_at: datetime = Field(default_factory=_now)

    class Settings:
        name = "auth_api_keys"

    class Admin:
        read_only = True  # revoked through the auth routes
        hidden_fields = ("key_hash",)
