"""The fences between module users: what one module process may not read or do to another.

- **Replies are private.** Each user's replies arrive under its own inbox prefix, ``_INBOX_<user>``
  (``kernel.transport.inbox_prefix``), and a module user may subscribe to its own prefix only. It
  publishes into no inbox: it answers the requests it receives through ``allow_responses``.
- **A wildcard handler gets events, not the kernel's traffic.** A module whose handlers' subjects
  reach into the internal subjects (``kernel.transport.INTERNAL_SUBJECTS``: forwarded HTTP,
  service calls, JetStream, KV, dead letters, tasks, inboxes) is denied them. In NATS a deny
  beats an allow, so where the module has subjects of its own under such a root (its forwarded
  HTTP, its services) the root stays open and the other modules' subjects under it are denied by
  name, as are the other users' inbox prefixes. For a wildcard subscription nats-server then drops
  the denied subjects' messages; a subscription to one of them is refused.
- **Tasks.** A module queues its own tasks and those of the modules its manifest names in
  ``sends_tasks_to``; it may read task status, and only workers and the gateway may write it.
- **Nodes.** A module user heartbeats and leaves on its own module's subject only
  (``webos.node.heartbeat.<module>``); the node tables refuse what that subject does not vouch for.

What is not fenced here: a module process with durable handlers may create and update the
``WEBOS_EVENTS`` stream and its own consumers, and read queued tasks of any module (see
docs/deploy.md, "NATS users and what each can do").
"""

from __future__ import annotations

from collections.abc import Iterable

from kernel.bus import EVENTS_STREAM_CHANGES
from kernel.deploy._inspect import ModuleFacts
from kernel.forwarding import HTTP_SUBJECT
from kernel.livesettings import UPDATED as SETTINGS_UPDATED
from kernel.nodes import HEARTBEAT, LEAVING
from kernel.registry import SUBJECT_PREFIX as SERVICE_PREFIX
from kernel.transport import INTERNAL_SUBJECTS, covers, inbox_prefix, overlap

NODE_SUBJECTS = "webos.node.>"
#: What a ``>`` handler may not hear under ``$JS.>``, whose stream changes it needs (a deny wins
#: over an allow in NATS, so ``$JS.>`` itself cannot be denied): API requests and answers, acks,
#: flow control, metrics, consumer advisories and the API audit (which carries answers, messages
#: fetched by sequence included). Other streams' change advisories (their configuration) stay.
JETSTREAM_PRIVATE = (
    "$JS.API.>",
    "$JS.ACK.>",
    "$JS.FC.>",
    "$JS.EVENT.METRIC.>",
    "$JS.EVENT.ADVISORY.API",
    "$JS.EVENT.ADVISORY.API.>",
    "$JS.EVENT.ADVISORY.CONSUMER.>",
)
# Tasks (kernel.tasks: stream WEBOS_TASKS on webos.tasks.<module>.>, status in the KV bucket
# WEBOS_TASK_STATUS). Not imported, to keep this free of the tasks subsystem's imports; tests/deploy
# checks they agree.
TASKS_STREAM = "WEBOS_TASKS"
TASK_SUBJECTS = "webos.tasks"
TASK_STATUS_BUCKET = "WEBOS_TASK_STATUS"
TASK_STATUS_WRITE = f"$KV.{TASK_STATUS_BUCKET}.>"
TASK_READ: tuple[str, ...] = (
    f"$JS.API.STREAM.INFO.{TASKS_STREAM}",
    f"$JS.API.STREAM.CREATE.{TASKS_STREAM}",
    f"$JS.API.STREAM.MSG.GET.{TASKS_STREAM}",  # the status of a task still queued
    f"$JS.API.STREAM.INFO.KV_{TASK_STATUS_BUCKET}",
    f"$JS.API.STREAM.CREATE.KV_{TASK_STATUS_BUCKET}",
    f"$JS.API.STREAM.MSG.GET.KV_{TASK_STATUS_BUCKET}",
    f"$JS.API.DIRECT.GET.KV_{TASK_STATUS_BUCKET}",
    f"$JS.API.DIRECT.GET.KV_{TASK_STATUS_BUCKET}.>",
)


def module_user(module: str) -> str:
    return f"module-{module}"


def inbox_subjects(user: str) -> str:
    """Every reply subject of ``user``: ``_INBOX_<user>.>``."""
    return f"{inbox_prefix(user)}.>"


def unique(subjects: Iterable[str]) -> tuple[str, ...]:
    """In order, without repeats or subjects another one in the list already covers."""
    listed = list(dict.fromkeys(subjects))
    return tuple(
        subject
        for subject in listed
        if not any(other != subject and covers(other, subject) for other in listed)
    )


def task_publish(module: str, targets: Iterable[str]) -> list[str]:
    """Queue its own tasks and those of ``targets``; read (never write) task status."""
    return [f"{TASK_SUBJECTS}.{name}.>" for name in (module, *targets)] + list(TASK_READ)


def node_subjects(module: str) -> list[str]:
    """Its own node's heartbeats and departure, on its module's subjects (kernel.nodes)."""
    return [f"{HEARTBEAT}.{module}", f"{LEAVING}.{module}"]


def _private(facts: ModuleFacts) -> list[str]:
    """Internal subjects that only the processes running ``facts``'s module read."""
    subjects = [HTTP_SUBJECT.format(module=facts.name)]
    if facts.services:
        service = f"webos-{facts.name}"
        subjects += [f"$SRV.*.{service}", f"$SRV.*.{service}.*"]
        for name in facts.services:
            # Its methods in the queue group, and each instance's own (shard-keyed calls).
            subjects += [f"{SERVICE_PREFIX}.{name}.*", f"{SERVICE_PREFIX}.{name}.*.*"]
    return subjects


def _own(facts: ModuleFacts) -> list[str]:
    subjects = [
        inbox_subjects(module_user(facts.name)),
        NODE_SUBJECTS,
        EVENTS_STREAM_CHANGES,  # which subjects WEBOS_EVENTS keeps (kernel.bus._keeping)
        SETTINGS_UPDATED,  # names a module whose saved settings changed; never a value
        *_private(facts),
    ]
    if facts.services:
        subjects.append("$SRV.*")  # PING, INFO, STATS of every service
    return subjects


def fenced_subscriptions(
    facts: ModuleFacts, others: Iterable[ModuleFacts], *, users: Iterable[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(allow, deny)`` subscribe rights of a module user among ``others`` and ``users``."""
    me = module_user(facts.name)
    own = _own(facts)
    theirs = [subject for other in others for subject in _private(other)]
    roots = [*INTERNAL_SUBJECTS, *(inbox_subjects(user) for user in users if user != me)]
    deny: list[str] = []
    for root in roots:
        if not any(overlap(handler, root) for handler in facts.handlers):
            continue
        mine = [subject for subject in own if overlap(subject, root)]
        if not mine:
            deny.append(root)
            continue
        deny += [
            subject
            for subject in (*theirs, *(JETSTREAM_PRIVATE if root == "$JS.>" else ()))
            if covers(root, subject) and not any(overlap(kept, subject) for kept in mine)
        ]
    return unique([*own, *facts.handlers]), unique(deny)
