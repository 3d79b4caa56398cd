"""Discovery: every process heartbeats its node id, modules and services; tables expire nodes."""

from kernel.nodes._info import (
    DISCOVER,
    HEARTBEAT,
    LEAVING,
    NODE_DOWN,
    NODE_UP,
    ModuleInfo,
    NodeInfo,
    describe_node,
)
from kernel.nodes._subsystem import NodesSubsystem
from kernel.nodes._table import NodeTable, snapshot

__all__ = [
    "DISCOVER",
    "HEARTBEAT",
    "LEAVING",
    "NODE_DOWN",
    "NODE_UP",
    "ModuleInfo",
    "NodeInfo",
    "NodeTable",
    "NodesSubsystem",
    "describe_node",
    "snapshot",
]
