from typing import Annotated

from litestar import post
from litestar.params import JSONBody
from pydantic import BaseModel, Field, StringConstraints

from kernel import registry
from kernel.auth import PUBLIC

from .events import Greeted

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class HelloRequest(BaseModel):
    name: Name


class HelloResponse(BaseModel):
    greeting: str
    event_id: str = Field(description="Id of the greeter.greeted event this call emitted.")


# Public: the README tour greets anonymously (docs/auth.md, "Public routes").
@post("/hello", status_code=200, opt=PUBLIC)
async def hello(data: JSONBody[HelloRequest]) -> HelloResponse:
    """Greet someone and emit ``greeter.greeted`` with their name."""
    greeting = await registry.get("greeter").greet(data.name)
    event_id = await Greeted.emit(name=data.name, greeting=greeting)
    return HelloResponse(greeting=greeting, event_id=event_id)
