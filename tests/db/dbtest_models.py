"""Documents used by the contract suite, laid out the way a module's ``models.py`` would be."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from beanie import Document, Indexed
from dbtest_other_models import Imported  # noqa: F401  (imported, so not "defined here")
from pydantic import BaseModel, Field, model_validator
from pymongo import IndexModel


def _now() -> datetime:
    return datetime.now(UTC)


class Product(Document):
    sku: Annotated[str, Indexed(unique=True)]
    name: str
    category: str
    price: float
    qty: int = 0
    tags: list[str] = Field(default_factory=list)
    created: datetime = Field(default_factory=_now)

    class Settings:
        name = "products"
        indexes = [IndexModel([("category", 1), ("price", -1)], name="category_price")]


class ProductSummary(BaseModel):
    """Projection model: only these fields are fetched."""

    name: str
    price: float


class Account(Document):
    """The recommended case-insensitive-unique pattern: a normalised copy with a plain index.

    A collation-based index (strength 2) is not enforced by the embedded store, whereas a
    unique index on a field that is always lower-cased holds on every backend.
    """

    email: str
    email_key: Annotated[str, Indexed(unique=True)] = ""

    @model_validator(mode="before")
    @classmethod
    def _normalise_email(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            data = {**data, "email_key": data["email"].strip().lower()}
        return data

    class Settings:
        name = "accounts"


class Timestamped(Document):
    """A shared base with no Settings of its own: not a collection by itself."""

    created: datetime = Field(default_factory=_now)


class Note(Timestamped):
    text: str

    class Settings:
        name = "notes"


class Draft(Document):
    """Explicitly abstract: never registered."""

    __abstract__ = True
    body: str = ""


MODELS: list[type[Document]] = [Product, Account, Note]
