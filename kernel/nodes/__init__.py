"""Discovery: every process heartbeats its node id, modules and services; tables expire nodes."""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.nodes._info import (
        DISCOVER,
        HEARTBEAT,
        LEAVING,
        NODE_DOWN,
        NODE_UP,
        CallStats,
        ModuleInfo,
        NodeInfo,
        describe_node,
    )
    from kernel.nodes._settings import NodesSettings
    from kernel.nodes._subsystem import NodesSubsystem
    from kernel.nodes._table import NodeTable, snapshot

__getattr__ = lazy_exports(__name__)
__all__ = [
    "DISCOVER",
    "HEARTBEAT",
    "LEAVING",
    "NODE_DOWN",
    "NODE_UP",
    "CallStats",
    "ModuleInfo",
    "NodeInfo",
    "NodeTable",
    "NodesSettings",
    "NodesSubsystem",
    "describe_node",
    "snapshot",
]
