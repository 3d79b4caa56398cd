"""The small contracts every layer of the kernel agrees on.

* :class:`Role`: what a process is for (gateway, module process, task worker, scheduler).
* :class:`Host`: what a subsystem sees of the kernel it runs in: its role, its node id, its
  parts by type (``host.get(Bus)``, ``host.get(TasksSettings)``, ``host.get(NodesSubsystem)``),
  and the one shutdown bound its parts share (``time_left()``, ``cut_off(what)``).
* :class:`Subsystem`: a part that owns a connection or a resource (database, storage, ...). It
  starts after the bus and before the modules' startup hooks, stops after them, reports
  readiness, and may shape the HTTP app (:class:`ConfiguresApp`).
* :class:`Instances`: which modules have a live instance somewhere (the node table), so a caller
  gives up on a module at once when none is left, and which nodes run it (for shard keys).
* :class:`Convention`: one convention file of a module (``tasks.py``, ``ui.py``, ...) and what the
  loader does with it.

They live at the bottom so that every package can name them without importing the runtime that
implements them: a subsystem is written against ``Host``, never against the ``Kernel``.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from types import ModuleType
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from litestar.config.app import AppConfig

T = TypeVar("T")
M = TypeVar("M", contravariant=True)


class Role(StrEnum):
    """What a kernel process is for; each has its preset of subsystems and conventions."""

    GATEWAY = "gateway"
    MODULE = "module"
    WORKER = "worker"
    SCHEDULER = "scheduler"


class Host(Protocol):
    """The kernel as its subsystems see it."""

    @property
    def role(self) -> Role: ...

    @property
    def node_id(self) -> str: ...

    def get(self, kind: type[T]) -> T:
        """The part of this kernel of type ``kind``; raises ``PartNotFound`` naming the parts."""
        ...

    def find(self, kind: type[T]) -> T | None:
        """The part of type ``kind``, or None when this kernel was assembled without it."""
        ...

    def time_left(self) -> float:
        """Seconds a stopping part may still wait for its work in progress: what is left of the
        process's one ``WEBOS_SHUTDOWN_TIMEOUT``, less what closing needs (all of it before a
        stop began). Each part waits this long at most, never a bound of its own."""
        ...

    def cut_off(self, what: str) -> None:
        """Note that stopping ended ``what`` unfinished (``"service call clock.wait"``): the
        kernel names everything cut off once it has stopped."""
        ...


class Subsystem(Protocol):
    """A kernel part that owns a connection or a resource. Adding one is a preset entry."""

    name: str

    async def start(self, host: Host) -> None:
        """Open what the loaded modules need; raise to stop start-up (the error names it)."""
        ...

    async def stop(self) -> None:
        """Release it. Called once, even after a failed start. Work still in progress is waited
        for at most ``host.time_left()``; what is then ended unfinished is told to
        ``host.cut_off``."""
        ...

    async def check(self) -> str | None:
        """None when healthy, else a short reason shown by ``/ready``."""
        ...


@runtime_checkable
class ConfiguresApp(Protocol):
    """A subsystem that shapes the HTTP app: called once, before start, when the app is built."""

    def configure_app(self, app_config: AppConfig, host: Host) -> AppConfig: ...


@runtime_checkable
class Instances(Protocol):
    """Where modules run, as far as this process knows (``kernel.nodes`` implements it)."""

    def module_gone(self, module: str) -> asyncio.Future[None] | None:
        """Done once no live node runs ``module`` (already done when none does); None when this
        process cannot tell yet (it has only just started listening to heartbeats)."""
        ...

    def node_gone(self, node_id: str) -> asyncio.Future[None] | None:
        """Done once node ``node_id`` leaves the table (already done when it is not listed);
        None when this process cannot tell yet. Ends a call sent to that node's own subject."""
        ...

    def nodes_running(self, module: str) -> list[str] | None:
        """The ids of the live nodes where ``module`` has started, sorted; None when this
        process cannot tell yet. Shard-keyed service calls choose among them."""
        ...


class Convention(Protocol[M]):
    """One convention file (``<stem>.py``) of a module and what the loader collects from it."""

    stem: str

    def collect(self, module: M, source: ModuleType, host: Host) -> None: ...


__all__ = ["ConfiguresApp", "Convention", "Host", "Instances", "Role", "Subsystem"]
