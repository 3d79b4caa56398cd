"""NATS users and their publish/subscribe rights, generated from the module manifests.

Three kinds of process connect to NATS:

- **kernel processes** (gateway, worker, scheduler) run many modules' code, own the streams and
  sign identities: they may publish every subject any manifest ``emits`` plus the kernel's own
  (``webos.>``, JetStream, KV, ``$SRV``, every inbox) and subscribe to everything; the scheduler
  alone may not write task status;
- **module processes** (``webos module run NAME``) may publish only what their manifest
  ``emits`` plus what the kernel does on their behalf, and subscribe only to what their handlers,
  services and forwarded HTTP requests need, fenced off from each other (``_fences.py``);
- **the CLI** (``webos events tail``, ``webos dlq``, ``nats`` in nats-box) is an operator
  credential: everything, under its own user so it can be rotated or left out.

Every right a module user has comes from its manifest and its convention files' markers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kernel.bus import DLQ_PREFIX, EVENTS_STREAM
from kernel.deploy._fences import (
    TASK_STATUS_WRITE,
    fenced_subscriptions,
    inbox_subjects,
    module_user,
    node_subjects,
    task_publish,
    unique,
)
from kernel.deploy._inspect import ModuleFacts
from kernel.livesettings import direct_get_subject
from kernel.nodes import DISCOVER
from kernel.registry import CIRCUIT_PREFIX
from kernel.registry import SUBJECT_PREFIX as SERVICE_PREFIX

INBOXES = "_INBOX.>"  # clients without a private prefix (nats-box, other NATS tools)
RESPONSES_PER_REQUEST = 8
RESPONSE_WINDOW = "1m"


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    # Lets a process answer requests it received (service calls, forwarded HTTP, $SRV pings)
    # without a right to publish into every inbox: up to this many messages per request, within
    # RESPONSE_WINDOW; 0 = none. More than 1 because nats-server counts every delivery of a request
    # to one connection against it: a request that also matches a module's wildcard handler
    # would otherwise leave no room for the real answer.
    allow_responses: int = 0
    # Subjects refused although an allowed pattern covers them (in NATS a deny beats an allow;
    # for a wildcard subscription the server drops the denied subjects' messages).
    publish_deny: tuple[str, ...] = ()
    subscribe_deny: tuple[str, ...] = ()


@dataclass(frozen=True)
class NatsUser:
    name: str
    role: str  # gateway | worker | scheduler | cli | module
    password_env: str
    permissions: Permissions
    module: str | None = None


KERNEL_ROLES = ("gateway", "worker", "scheduler")


def password_env(role: str, module: str | None = None) -> str:
    """``NATS_GATEWAY_PASSWORD``, ``NATS_MODULE_AUDIT_PASSWORD``, ..."""
    middle = f"MODULE_{module}" if module else role
    return f"NATS_{middle.upper()}_PASSWORD"


def user_name(role: str, module: str | None = None) -> str:
    return module_user(module) if module else role


def durable_subjects(consumer: str) -> list[str]:
    """JetStream rights of one durable consumer: bind to it, fetch, ack, dead-letter. Creating
    it is the gateway's: with the right to set its filter, a module could read any event kept."""
    api = "$JS.API.CONSUMER"
    return [
        f"{api}.INFO.{EVENTS_STREAM}.{consumer}",
        f"{api}.MSG.NEXT.{EVENTS_STREAM}.{consumer}",
        f"$JS.ACK.{EVENTS_STREAM}.{consumer}.>",
        f"{DLQ_PREFIX}.{consumer}",
    ]


#: What a module with durable handlers reads about the streams; only the gateway creates or
#: changes them (a module could otherwise make WEBOS_EVENTS capture other processes' traffic).
STREAM_SUBJECTS = (
    "$JS.API.INFO",
    f"$JS.API.STREAM.INFO.{EVENTS_STREAM}",
)


def own_stream_subjects(stream: str) -> list[str]:
    """What a module does with a stream of its own: read its state and its messages by sequence.
    Writing is publishing its subjects (in its emits). Creating or changing it is the gateway's:
    a user who may set a stream's subjects may make it capture anyone's traffic."""
    return [f"$JS.API.STREAM.INFO.{stream}", f"$JS.API.STREAM.MSG.GET.{stream}"]


#: Every module reads which subjects WEBOS_EVENTS keeps: emitting one waits for its storage.
KEPT_SUBJECTS = (f"$JS.API.STREAM.INFO.{EVENTS_STREAM}",)


def module_permissions(
    facts: ModuleFacts, *, others: Iterable[ModuleFacts] = (), users: Iterable[str] = ()
) -> Permissions:
    """Only its own subjects: what it emits, serves, handles and the kernel does for it.

    ``others`` are the deployment's other modules and ``users`` its NATS users: a module whose
    handlers reach into internal subjects is denied theirs by name (``_fences.py``).
    """
    publish = [
        *facts.emits,
        *node_subjects(facts.name),
        DISCOVER,
        f"{SERVICE_PREFIX}.>",  # calls to services wherever they run (registry proxies)
        f"{CIRCUIT_PREFIX}.>",  # its proxies' breaker changes (informational, never obeyed)
        *task_publish(facts.name, facts.sends_tasks_to),
        *KEPT_SUBJECTS,
        # Its own saved settings only: the API subject names the key (others hold secrets).
        direct_get_subject(facts.name),
    ]
    for stream in facts.streams:
        publish += own_stream_subjects(stream)
    if facts.consumers:
        publish += STREAM_SUBJECTS
        for consumer in facts.consumers:
            publish += durable_subjects(consumer)
    allow, deny = fenced_subscriptions(facts, others, users=users)
    return Permissions(
        unique(publish),
        allow,
        allow_responses=RESPONSES_PER_REQUEST,
        subscribe_deny=deny,
    )


def kernel_permissions(
    modules: Iterable[ModuleFacts], *, users: Iterable[str] = (), role: str = "gateway"
) -> Permissions:
    """Gateway, worker and scheduler: every module's emits plus the kernel's own subjects, and
    every user's inbox (the gateway sends forwarding frames into module processes' inboxes)."""
    emits = sorted({subject for facts in modules for subject in facts.emits})
    publish = [
        *emits,
        "webos.>",
        INBOXES,
        *(inbox_subjects(user) for user in users),
        "$JS.API.>",
        "$JS.ACK.>",
        "$KV.>",
        "$SRV.>",
    ]
    # The scheduler only queues tasks: their status is the worker's (and the gateway's) to write.
    deny = (TASK_STATUS_WRITE,) if role == "scheduler" else ()
    return Permissions(
        unique(publish), (">",), allow_responses=RESPONSES_PER_REQUEST, publish_deny=deny
    )


CLI_PERMISSIONS = Permissions((">",), (">",))


def _check_task_targets(modules: dict[str, ModuleFacts]) -> None:
    for facts in modules.values():
        unknown = [name for name in facts.sends_tasks_to if name not in modules]
        if unknown:
            raise ValueError(
                f"module {facts.name!r} sends tasks to {', '.join(map(repr, unknown))}, which "
                f"is not installed (sends_tasks_to in its module.toml). "
                f"Installed: {', '.join(sorted(modules))}"
            )


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
    _check_task_targets(modules)
    names = [*KERNEL_ROLES, "cli", *(user_name("module", name) for name in chosen)]
    users = [
        NatsUser(
            user_name(role),
            role,
            password_env(role),
            kernel_permissions(modules.values(), users=names, role=role),
        )
        for role in KERNEL_ROLES
    ]
    users.append(NatsUser(user_name("cli"), "cli", password_env("cli"), CLI_PERMISSIONS))
    for name in chosen:
        others = [facts for other, facts in modules.items() if other != name]
        users.append(
            NatsUser(
                user_name("module", name),
                "module",
                password_env("module", name),
                module_permissions(modules[name], others=others, users=names),
                module=name,
            )
        )
    return users
