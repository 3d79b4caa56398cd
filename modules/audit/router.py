from typing import Annotated, Any

from litestar import get
from litestar.params import Parameter

from kernel import registry
from kernel.auth import PUBLIC
from kernel.bus import normalize_subject


# Public: the README tour reads it anonymously (docs/auth.md, "Public routes").
@get("/events", opt=PUBLIC)
async def recent_events(
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 50,
    subject: Annotated[str | None, Parameter(description="Filter, e.g. greeter.>")] = None,
) -> list[dict[str, Any]]:
    """The most recent application events seen by this instance, newest first."""
    if subject is not None:
        subject = normalize_subject(subject, allow_wildcards=True)
    return await registry.get("audit_log").recent(limit, subject)
