"""NATS users and their publish/subscribe rights, generated from the module manifests.

Three kinds of process connect to NATS:

- **kernel processes** (gateway, worker, scheduler) run many modules' code, own the streams and
  sign identities: they may publish every subject any manifest ``emits`` plus the kernel's own
  (``webos.>``, JetStream, KV, ``$SRV``) and subscribe to everything;
- **module processes** (``webos module run NAME``) may publish only what their manifest
  ``emits`` plus what the kernel does on their behalf (heartbeats, service calls, replies, their
  own durable consumers and dead letters), and subscribe only to what their handlers, services
  and forwarded HTTP requests need;
- **the CLI** (``webos events tail``, ``webos dlq``, ``nats`` in nats-box) is an operator
  credential: everything, under its own user so it can be rotated or left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kernel.bus import DLQ_PREFIX, DLQ_STREAM, EVENTS_STREAM
from kernel.deploy._inspect import ModuleFacts
from kernel.forwarding import HTTP_SUBJECT
from kernel.nodes import DISCOVER, HEARTBEAT, LEAVING
from kernel.registry import SUBJECT_PREFIX as SERVICE_PREFIX
from kernel.transport import covers

INBOXES = "_INBOX.>"
RESPONSES_PER_REQUEST = 8
RESPONSE_WINDOW = "1m"
NODE_SUBJECTS = "webos.node.>"
# Tasks (kernel.tasks: stream WEBOS_TASKS on webos.tasks.>, status in the KV bucket
# WEBOS_TASK_STATUS). Not imported, to keep this free of the tasks subsystem's imports; tests/deploy
# checks they agree. A module process may enqueue tasks and read and write their status.
TASKS_STREAM = "WEBOS_TASKS"
TASK_SUBJECTS = "webos.tasks.>"
TASK_STATUS_BUCKET = "WEBOS_TASK_STATUS"
TASK_PUBLISH: tuple[str, ...] = (
    TASK_SUBJECTS,
    f"$JS.API.STREAM.INFO.{TASKS_STREAM}",
    f"$JS.API.STREAM.CREATE.{TASKS_STREAM}",
    f"$JS.API.STREAM.MSG.GET.{TASKS_STREAM}",  # the status of a task still queued
    f"$KV.{TASK_STATUS_BUCKET}.>",
    f"$JS.API.STREAM.INFO.KV_{TASK_STATUS_BUCKET}",
    f"$JS.API.STREAM.CREATE.KV_{TASK_STATUS_BUCKET}",
    f"$JS.API.STREAM.MSG.GET.KV_{TASK_STATUS_BUCKET}",
    f"$JS.API.DIRECT.GET.KV_{TASK_STATUS_BUCKET}",
    f"$JS.API.DIRECT.GET.KV_{TASK_STATUS_BUCKET}.>",
)
TASK_SUBSCRIBE: tuple[str, ...] = ()


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    # Lets a process answer requests it received (service calls, forwarded HTTP, $SRV pings)
    # without a right to publish into every inbox: up to this many messages per request, within
    # RESPONSE_WINDOW; 0 = none. More than 1 because nats-server counts every delivery of a request
    # to one connection against it: a request that also matches a module's wildcard handler
    # (audit listens on '>') would otherwise leave no room for the real answer.
    allow_responses: int = 0


@dataclass(frozen=True)
class NatsUser:
    name: str
    role: str  # gateway | worker | scheduler | cli | module
    password_env: str
    permissions: Permissions
    module: str | None = None


def password_env(role: str, module: str | None = None) -> str:
    """``NATS_GATEWAY_PASSWORD``, ``NATS_MODULE_AUDIT_PASSWORD``, ..."""
    middle = f"MODULE_{module}" if module else role
    return f"NATS_{middle.upper()}_PASSWORD"


def user_name(role: str, module: str | None = None) -> str:
    return f"module-{module}" if module else role


def _unique(subjects: Iterable[str]) -> tuple[str, ...]:
    """In order, without repeats or subjects another one in the list already covers."""
    listed = list(dict.fromkeys(subjects))
    return tuple(
        subject
        for subject in listed
        if not any(other != subject and covers(other, subject) for other in listed)
    )


def durable_subjects(consumer: str) -> list[str]:
    """JetStream rights of one durable consumer: create/bind it, fetch, ack, dead-letter."""
    api = "$JS.API.CONSUMER"
    return [
        f"{api}.CREATE.{EVENTS_STREAM}.{consumer}",
        f"{api}.CREATE.{EVENTS_STREAM}.{consumer}.>",
        f"{api}.DURABLE.CREATE.{EVENTS_STREAM}.{consumer}",
        f"{api}.INFO.{EVENTS_STREAM}.{consumer}",
        f"{api}.MSG.NEXT.{EVENTS_STREAM}.{consumer}",
        f"$JS.ACK.{EVENTS_STREAM}.{consumer}.>",
        f"{DLQ_PREFIX}.{consumer}",
    ]


STREAM_SUBJECTS = (
    "$JS.API.INFO",
    f"$JS.API.STREAM.INFO.{EVENTS_STREAM}",
    f"$JS.API.STREAM.CREATE.{EVENTS_STREAM}",
    f"$JS.API.STREAM.UPDATE.{EVENTS_STREAM}",
    f"$JS.API.STREAM.INFO.{DLQ_STREAM}",
    f"$JS.API.STREAM.CREATE.{DLQ_STREAM}",
)


def module_permissions(facts: ModuleFacts) -> Permissions:
    """Only its own subjects: what it emits, serves, handles and the kernel does for it."""
    publish = [
        *facts.emits,
        HEARTBEAT,
        LEAVING,
        DISCOVER,
        f"{SERVICE_PREFIX}.>",  # calls to services wherever they run (registry proxies)
        *TASK_PUBLISH,
    ]
    if facts.consumers:
        publish += STREAM_SUBJECTS
        for consumer in facts.consumers:
            publish += durable_subjects(consumer)
    service_name = f"webos-{facts.name}"
    subscribe = [
        INBOXES,
        NODE_SUBJECTS,
        HTTP_SUBJECT.format(module=facts.name),
        *facts.handlers,
        *TASK_SUBSCRIBE,
    ]
    if facts.services:
        subscribe += ["$SRV.*", f"$SRV.*.{service_name}", f"$SRV.*.{service_name}.*"]
        subscribe += [f"{SERVICE_PREFIX}.{name}.*" for name in facts.services]
    return Permissions(_unique(publish), _unique(subscribe), allow_responses=RESPONSES_PER_REQUEST)


def kernel_permissions(modules: Iterable[ModuleFacts]) -> Permissions:
    """Gateway, worker and scheduler: every module's emits plus the kernel's own subjects."""
    emits = sorted({subject for facts in modules for subject in facts.emits})
    publish = [
        *emits,
        "webos.>",
        INBOXES,
        "$JS.API.>",
        "$JS.ACK.>",
        "$KV.>",
        "$SRV.>",
        *TASK_PUBLISH,
    ]
    return Permissions(_unique(publish), (">",), allow_responses=RESPONSES_PER_REQUEST)


CLI_PERMISSIONS = Permissions((">",), (">",))


def nats_users(
    modules: dict[str, ModuleFacts], standalone: Iterable[str] | None = None
) -> list[NatsUser]:
    """The users of a deployment: kernel roles, the CLI, and one per standalone module."""
    chosen = list(modules) if standalone is None else list(standalone)
    unknown = [name for name in chosen if name not in modules]
    if unknown:
        raise ValueError(
            f"no module named {', '.join(map(repr, unknown))}. "
            f"Installed: {', '.join(sorted(modules)) or 'none'}"
        )
    kernel = kernel_permissions(modules.values())
    users = [
        NatsUser(user_name(role), role, password_env(role), kernel)
        for role in ("gateway", "worker", "scheduler")
    ]
    users.append(NatsUser(user_name("cli"), "cli", password_env("cli"), CLI_PERMISSIONS))
    for name in chosen:
        users.append(
            NatsUser(
                user_name("module", name),
                "module",
                password_env("module", name),
                module_permissions(modules[name]),
                module=name,
            )
        )
    return users
