"""What a process says about itself on ``webos.node.heartbeat``."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable

from pydantic import BaseModel, Field

from kernel.modules import LoadedModule

HEARTBEAT = "webos.node.heartbeat"
DISCOVER = "webos.node.discover"
LEAVING = "webos.node.leaving"
NODE_UP = "webos.node.up"
NODE_DOWN = "webos.node.down"


class ModuleInfo(BaseModel):
    name: str
    version: str
    state: str
    services: list[str] = Field(default_factory=list)
    subscriptions: list[str] = Field(default_factory=list)


class NodeInfo(BaseModel):
    node_id: str
    role: str
    pid: int
    host: str
    started_at: float
    heartbeat_interval: float
    modules: list[ModuleInfo] = Field(default_factory=list)
    last_seen: float = 0.0

    def module_names(self) -> set[str]:
        return {module.name for module in self.modules}


def describe_node(
    node_id: str,
    role: str,
    modules: Iterable[LoadedModule],
    *,
    started_at: float,
    heartbeat_interval: float,
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
        last_seen=time.time(),
    )
