"""The greeter in the console: an app to say hello, and a palette command that greets the world."""

from typing import Annotated

from litestar import Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from pydantic import BaseModel, Field

from kernel import registry
from kernel.console import App, Command, escape, fragment

from .events import Greeted

app = App(
    name="hello",
    title="Greeter",
    icon="☺",
    route="/console",
    description="Say hello; each greeting is a greeter.greeted event on the bus.",
)
greet_world = Command(
    name="greet-world",
    title="Say hello to the world",
    url="/console/world",
    keywords=("greeter", "hello", "event"),
)


class HelloForm(BaseModel):
    name: str = Field(min_length=1, max_length=100)


@get("/console", include_in_schema=False)
async def hello_page() -> Response[str]:
    return fragment(
        """
<form class="toolbar" method="post" hx-post="/api/greeter/console/hello" hx-target="#greeting">
  <label for="greet-name">Name</label>
  <input id="greet-name" name="name" required maxlength="100" placeholder="Ada">
  <button class="button primary" type="submit">Say hello</button>
</form>
<p id="greeting" role="status" aria-live="polite" class="muted">
  Greetings show up here and in Events.
</p>
"""
    )


@post("/console/hello", include_in_schema=False, status_code=200)
async def hello_submit(
    data: Annotated[HelloForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[str]:
    greeting = await registry.get("greeter").greet(data.name.strip())
    event_id = await Greeted.emit(name=data.name, greeting=greeting)
    return fragment(f"<strong>{escape(greeting)}</strong> <small>event {escape(event_id)}</small>")


@post("/console/world", include_in_schema=False, status_code=200)
async def hello_world() -> dict[str, str]:
    greeting = await registry.get("greeter").greet("world")
    await Greeted.emit(name="world", greeting=greeting)
    return {"detail": greeting}
