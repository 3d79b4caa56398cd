from datetime import UTC, datetime
from typing import Annotated

from beanie import Document, Indexed
from pydantic import Field


def _now() -> datetime:
    return datetime.now(UTC)


class Contact(Document):
    name: str
    email: str
    # Unique case-insensitively on every store: the embedded one ignores collations, so the rule
    # lives in a normalised copy with a plain unique index.
    email_key: Annotated[str, Indexed(unique=True)]
    created_at: datetime = Field(default_factory=_now)

    class Settings:
        name = "contacts_contact"
