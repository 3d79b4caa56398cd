from datetime import UTC, datetime
from typing import Annotated, Any

from beanie import Document, Indexed
from pydantic import EmailStr, Field, model_validator


def _now() -> datetime:
    return datetime.now(UTC)


class Contact(Document):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    # Unique case-insensitively on every store: the embedded one ignores collations, so the rule
    # lives in a normalised copy with a plain unique index, derived here from ``email``.
    email_key: Annotated[str, Indexed(unique=True)] = ""
    created_at: datetime = Field(default_factory=_now)

    @model_validator(mode="before")
    @classmethod
    def _normalise_email(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            data = {**data, "email_key": data["email"].strip().lower()}
        return data

    class Settings:
        name = "contacts_contact"

    # The data explorer (docs/data.md): email_key is the index's business, people see email.
    class Admin:
        list_columns = ("name", "email", "created_at")
        search_fields = ("name", "email")
        read_only_fields = ("created_at",)
        hidden_fields = ("email_key",)
        duplicate_as = {"email_key": "email"}
