import json

from pydantic import BaseModel

from kernel import Event, on, registry

from .services import SUBJECT

# Kernel traffic, replies and NATS's own APIs are not application events; nor is audit's own
# record of one (recording that would record it again, forever).
_IGNORED_PREFIXES = ("webos.", "_INBOX.", "_INBOX_", "$", SUBJECT)
#: Kernel subjects that are an operator's change, not kernel traffic: kept like application events.
_OPERATOR_CHANGES = frozenset({"webos.settings.updated"})


@on(">")
async def record(event: Event) -> None:
    if event.subject.startswith(_IGNORED_PREFIXES) and event.subject not in _OPERATOR_CHANGES:
        return
    try:
        payload = json.loads(event.data)
    except ValueError:
        payload = event.data.decode("utf-8", errors="replace")
    await registry.get("audit_log").record(
        {
            "id": event.id,
            "subject": event.subject,
            "source": event.source,
            "time": event.time,
            "payload": payload,
        }
    )


class Greeting(BaseModel):
    """What audit needs of a ``greeter.greeted`` event: its contract as a consumer. A greeter
    that stopped sending ``name`` would break it, and ``webos contracts check`` says so."""

    name: str


# Broadcast: every replica of audit hears every greeting, so each answers with the full count.
@on("greeter.greeted", broadcast=True)
async def count_greeting(greeting: Greeting) -> None:
    await registry.get("audit_greetings").count(greeting.name)
