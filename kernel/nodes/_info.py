"""What a process says about itself on ``webos.node.heartbeat[.<module>]``.

Who may say what is in the subject, because NATS permissions can restrict subjects but not
payloads: a process running exactly one module as a module process heartbeats (and leaves) on
``webos.node.heartbeat.<module>``, which is the only heartbeat subject that module's NATS user may
publish (``kernel.deploy``); kernel processes (gateway, worker, scheduler, several modules in one
process) use ``webos.node.heartbeat``, which only kernel users may publish. The node table refuses
a heartbeat whose subject does not vouch for what it announces (:func:`vouches_for`).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from kernel.contracts import Role
from kernel.modules import LoadedModule

HEARTBEAT = "webos.node.heartbeat"
DISCOVER = "webos.node.discover"
LEAVING = "webos.node.leaving"
NODE_UP = "webos.node.up"
NODE_DOWN = "webos.node.down"
MODULE_ROLE = Role.MODULE.value


def scoped(subject: str, scope: str | None) -> str:
    """``HEARTBEAT`` or ``LEAVING`` for a process speaking for ``scope`` (a module), or for the
    kernel (None)."""
    return f"{subject}.{scope}" if scope else subject


def scope_of(subject: str, base: str) -> str | None:
    """The module a ``base[.<module>]`` subject speaks for; None for the kernel's own."""
    return subject.removeprefix(base + ".") if subject.startswith(base + ".") else None


def announce_scope(role: str, modules: Iterable[str]) -> str | None:
    """The module a process speaks for: a module process's one module; None for the others."""
    names = list(modules)
    return names[0] if role == MODULE_ROLE and len(names) == 1 else None


class ModuleInfo(BaseModel):
    name: str
    version: str
    state: str
    services: list[str] = Field(default_factory=list)
    subscriptions: list[str] = Field(default_factory=list)


#: At most this many callee services in one heartbeat: the sender chooses the list, so a bound
#: keeps a heartbeat small whatever a process calls (an entry is ~250 bytes of JSON).
MAX_CALLEES = 64


class CallStats(BaseModel):
    """What this process saw calling one remote service (``kernel.registry.call_stats()``):
    counters since the process started, so a reader takes rates from two heartbeats."""

    service: str = Field(max_length=200)
    breaker: str = Field(max_length=20)
    in_flight: int = 0
    concurrency: int = 0
    calls: int = 0
    transport_failures: int = 0
    remote_errors: int = 0
    rejected: int = 0
    retries: int = 0
    fallbacks: int = 0
    latency_p50: float | None = None
    latency_p99: float | None = None


class NodeInfo(BaseModel):
    node_id: str
    role: str
    pid: int
    host: str
    started_at: float
    heartbeat_interval: float
    modules: list[ModuleInfo] = Field(default_factory=list)
    #: The remote services this process calls, as a caller sees them (breaker, in flight, ...).
    calls: list[CallStats] = Field(default_factory=list, max_length=MAX_CALLEES)
    last_seen: float = 0.0

    def module_names(self) -> set[str]:
        return {module.name for module in self.modules}

    def vouches_for(self, scope: str | None) -> str | None:
        """Why a heartbeat on a subject speaking for ``scope`` may not announce this; None if it
        may. A module's subject announces a module process running that module and no other."""
        if scope is None:
            return None
        if self.role != MODULE_ROLE:
            return f"role {self.role!r} announced on module {scope!r}'s subject"
        others = sorted(self.module_names() - {scope})
        if others:
            return f"module {scope!r}'s subject announced {', '.join(map(repr, others))}"
        return None


def describe_node(
    node_id: str,
    role: str,
    modules: Iterable[LoadedModule],
    *,
    started_at: float,
    heartbeat_interval: float,
    calls: Iterable[dict[str, Any]] = (),
) -> NodeInfo:
    return NodeInfo(
        node_id=node_id,
        role=role,
        pid=os.getpid(),
        host=socket.gethostname(),
        started_at=started_at,
        heartbeat_interval=heartbeat_interval,
        modules=[
            ModuleInfo(
                name=module.name,
                version=module.spec.manifest.version,
                state=module.state.value,
                services=module.services,
                subscriptions=module.subscriptions,
            )
            for module in modules
        ],
        calls=[CallStats.model_validate(stats) for stats in list(calls)[:MAX_CALLEES]],
        last_seen=time.time(),
    )
