from typing import Annotated

from beanie import PydanticObjectId
from litestar import delete, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, JSONBody, Parameter
from pydantic import BaseModel, EmailStr, Field
from pymongo.errors import DuplicateKeyError

from kernel import ThisModule
from kernel.auth import PUBLIC, requires

from .models import Contact

# An example of models.py and of guards side by side: reading is public (so the example can be
# tried with curl), writing needs ``contacts.write``. A real address book holds personal data:
# guard the reads too, with ``guards=[requires("contacts.read")]`` (docs/auth.md).
WRITE = [requires("contacts.write")]


class NewContact(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr


class ContactOut(BaseModel):
    id: str
    name: str
    email: str


def _out(contact: Contact) -> ContactOut:
    return ContactOut(id=str(contact.id), name=contact.name, email=contact.email)


@post("/", guards=WRITE)
async def create_contact(data: JSONBody[NewContact], module: ThisModule) -> ContactOut:
    """Store a contact; an email already stored (in any letter case) is a 409."""
    contact = Contact(name=data.name, email=data.email)
    try:
        await contact.insert()
    except DuplicateKeyError:
        # The clash is on the stored copy ``email_key`` (models.py); the caller knows ``email``.
        detail = "a contact with this email already exists"
        raise HTTPException(status_code=409, detail=detail, extra={"fields": ["email"]}) from None
    await module.emit("contacts.created", {"id": str(contact.id), "email": contact.email})
    return _out(contact)


@get("/", opt=PUBLIC)
async def list_contacts(
    limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
    skip: Annotated[int, Parameter(ge=0)] = 0,
) -> list[ContactOut]:
    """Contacts by name."""
    found = await Contact.find_all().sort("+name").skip(skip).limit(limit).to_list()
    return [_out(contact) for contact in found]


@get("/{contact_id:str}", opt=PUBLIC)
async def get_contact(contact_id: FromPath[str]) -> ContactOut:
    return _out(await _find(contact_id))


@delete("/{contact_id:str}", guards=WRITE)
async def delete_contact(contact_id: FromPath[str], module: ThisModule) -> None:
    contact = await _find(contact_id)
    await contact.delete()
    await module.emit("contacts.deleted", {"id": contact_id})


async def _find(contact_id: str) -> Contact:
    try:
        object_id = PydanticObjectId(contact_id)
    except Exception:
        raise NotFoundException(f"no contact {contact_id!r}") from None
    contact = await Contact.get(object_id)
    if contact is None:
        raise NotFoundException(f"no contact {contact_id!r}")
    return contact
