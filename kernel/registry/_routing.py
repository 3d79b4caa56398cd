"""Which subject a service call is sent to: any instance, or the one a shard key chooses.

Every instance of a service serves two subjects (``_serve.py``):

- ``webos.svc.<service>.<method>`` in the queue group ``webos.svc.<service>``: NATS hands each
  request to one member at random. This is the default, and what a call with no shard key uses;
- ``webos.svc.<service>.<method>.@<node>``, its own, with no queue group: only that instance
  answers. ``<node>`` is its node id with every character a subject token may not hold (``.``,
  ``*``, ``>``, whitespace...) replaced by ``_``.

A call with a shard key goes to the instance chosen by rendezvous hashing (highest random
weight) over the node ids that run the service's module, as this process's node table lists
them: each node's weight for the key is a hash of (key, node id), and the heaviest wins. The same
key therefore reaches the same instance from every caller that sees the same nodes; when a node
leaves only its own keys move (each to its second choice), and a node that joins takes about
1/n of them, the least any scheme can move. The table is consulted at every call, so a departure
counts from the moment the table drops the node (at once for a clean stop, within 3 heartbeat
intervals for a ``kill -9``).

While the table is not settled (its first heartbeat interval) or lists no instance, a keyed call
goes to the queue subject: some instance, or "no responders" at once. A keyed call whose instance
has vanished before the table noticed gets "no responders" too (its subscription went with its
connection), which means nobody received it: the proxy then sends it to the queue subject
(:func:`is_instance_subject`), so it is answered rather than refused for up to three intervals.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from kernel.contracts import Instances
from kernel.registry._subjects import SUBJECT_PREFIX, method_subject

__all__ = [
    "SUBJECT_PREFIX",
    "choose",
    "choose_subject",
    "instance_subject",
    "instance_subjects",
    "is_instance_subject",
    "method_subject",
    "pick",
]

#: Marks the last token of an instance's own subject (method names are identifiers: never '@').
INSTANCE_MARK = "@"
_NOT_IN_TOKEN = re.compile(r"[^A-Za-z0-9_-]")


def instance_token(node_id: str) -> str:
    """``node_id`` as one subject token (host names hold dots; node ids come from heartbeats)."""
    return _NOT_IN_TOKEN.sub("_", node_id)


def instance_subject(service: str, method: str, node_id: str) -> str:
    """The subject only the instance on ``node_id`` serves ``method`` of ``service`` on."""
    return f"{method_subject(service, method)}.{INSTANCE_MARK}{instance_token(node_id)}"


def instance_subjects(service: str, node_id: str) -> str:
    """Every method of ``service`` on ``node_id``'s own subjects: what that instance subscribes."""
    return f"{SUBJECT_PREFIX}.{service}.*.{INSTANCE_MARK}{instance_token(node_id)}"


def is_instance_subject(subject: str) -> bool:
    return subject.rsplit(".", 1)[-1].startswith(INSTANCE_MARK)


def shard_text(shard_key: object) -> str:
    """A shard key as hashed: a string or an integer (``7`` and ``"7"`` are the same key)."""
    if isinstance(shard_key, bool) or not isinstance(shard_key, str | int):
        raise TypeError(
            f"shard_key must be a str or an int, not {type(shard_key).__name__}: "
            "calls with equal keys go to one instance, so the key must compare by value"
        )
    return str(shard_key)


def pick(key: str, nodes: Iterable[str]) -> str | None:
    """The node ``key`` belongs to among ``nodes`` (rendezvous hashing); None when none."""
    return max(nodes, key=lambda node: (_weight(key, node), node), default=None)


def _weight(key: str, node: str) -> int:
    # A NUL between the two keeps ("ab", "c") and ("a", "bc") apart.
    digest = hashlib.blake2b(f"{key}\0{node}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def choose_subject(
    service: str,
    method: str,
    *,
    shard_key: object = None,
    module: str | None = None,
    instances: Instances | None = None,
) -> str:
    """The subject of one call: the queue subject, or the instance ``shard_key`` chooses among
    the live nodes of ``module`` that ``instances`` (the node table) lists."""
    return choose(service, method, shard_key=shard_key, module=module, instances=instances)[0]


def choose(
    service: str,
    method: str,
    *,
    shard_key: object = None,
    module: str | None = None,
    instances: Instances | None = None,
) -> tuple[str, str | None]:
    """:func:`choose_subject`, and the id of the node whose own subject it is (None for the
    queue subject): a call to it ends when that node leaves the table."""
    queue = method_subject(service, method)
    if shard_key is None:
        return queue, None
    key = shard_text(shard_key)
    nodes = instances.nodes_running(module) if instances is not None and module else None
    node = pick(key, nodes or ())
    return (queue, None) if node is None else (instance_subject(service, method, node), node)
