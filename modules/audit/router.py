from typing import Annotated, Any

from litestar import get
from litestar.params import Parameter

from kernel import registry
from kernel.auth import requires
from kernel.bus import normalize_subject


# Events name users and say what they did (auth.*: e-mails, roles, keys): not for anyone.
@get("/events", guards=[requires("audit.read")])
async def recent_events(
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 50,
    subject: Annotated[str | None, Parameter(description="Filter, e.g. greeter.>")] = None,
) -> list[dict[str, Any]]:
    """The most recent application events recorded by any replica, newest stored first."""
    if subject is not None:
        subject = normalize_subject(subject, allow_wildcards=True)
    return await registry.get("audit_log").recent(limit, subject)


# Names of people: the same permission as the log they come from.
@get("/greetings", guards=[requires("audit.read")])
async def greetings() -> list[dict[str, Any]]:
    """How often each name was greeted (``greeter.greeted``) since this audit instance started,
    most greeted first."""
    return await registry.get("audit_greetings").counts()
