"""The Services view: per service, who offers it and how its callers fare.

Everything comes from the node table, so the view costs no request of its own: each process's
heartbeat lists its modules' services (the instances) and its ``call_stats()`` (the caller's
side: breaker, calls in flight, counters since it started, recent latencies). Rates are counter
differences between a caller's last two heartbeats, so they describe the last heartbeat interval
(two seconds by default) and appear once a caller has sent two.

A call refused by the caller itself (circuit open, too many in flight) counts as a call that
failed: that is what its user saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency

from kernel.auth import CurrentPrincipal
from kernel.console._contrib import SYSTEM_READ
from kernel.console._pages import Catalogue
from kernel.console._shell import html, page, render
from kernel.nodes import CallStats, NodeInfo, NodeTable

READ = {"console_permission": SYSTEM_READ}


@dataclass
class Caller:
    """One process calling a service, as its last two heartbeats tell."""

    node: str
    role: str
    stats: CallStats
    calls_per_s: float | None = None  # None until the caller's second heartbeat
    failed_per_s: float | None = None

    @property
    def error_rate(self) -> float | None:
        if not self.calls_per_s or self.failed_per_s is None:
            return None
        return self.failed_per_s / self.calls_per_s


@dataclass
class ServiceRow:
    service: str
    modules: set[str] = field(default_factory=set)
    instances: list[str] = field(default_factory=list)
    callers: list[Caller] = field(default_factory=list)

    def _total(self, rate: str) -> float | None:
        values = [getattr(c, rate) for c in self.callers if getattr(c, rate) is not None]
        return sum(values) if values else None

    @property
    def calls_per_s(self) -> float | None:
        return self._total("calls_per_s")

    @property
    def error_rate(self) -> float | None:
        calls, failed = self.calls_per_s, self._total("failed_per_s")
        return failed / calls if calls and failed is not None else None

    @property
    def in_flight(self) -> int:
        return sum(caller.stats.in_flight for caller in self.callers)

    def worst(self, quantile: str) -> float | None:
        """The slowest caller's latency quantile (quantiles of callers cannot be merged)."""
        values = [getattr(c.stats, quantile) for c in self.callers]
        known = [value for value in values if value is not None]
        return max(known) if known else None


def _attempts(stats: CallStats) -> int:
    return stats.calls + stats.rejected


def _failed(stats: CallStats) -> int:
    return stats.transport_failures + stats.remote_errors + stats.rejected


def _caller(node: NodeInfo, stats: CallStats, before: NodeInfo | None) -> Caller:
    caller = Caller(node.node_id, node.role, stats)
    if before is None or node.last_seen <= before.last_seen:
        return caller
    seconds = node.last_seen - before.last_seen
    earlier = next((s for s in before.calls if s.service == stats.service), None)
    if earlier is None:  # its first calls of this service came in this interval
        earlier = CallStats(service=stats.service, breaker="closed")
    calls = _attempts(stats) - _attempts(earlier)
    failed = _failed(stats) - _failed(earlier)
    if calls >= 0 and failed >= 0:  # counters only grow within one process
        caller.calls_per_s, caller.failed_per_s = calls / seconds, failed / seconds
    return caller


def service_rows(table: NodeTable) -> list[ServiceRow]:
    """One row per service that a live node offers or calls, sorted by name."""
    rows: dict[str, ServiceRow] = {}
    for node in table.nodes():
        for module in node.modules:
            for name in module.services:
                row = rows.setdefault(name, ServiceRow(name))
                row.modules.add(module.name)
                row.instances.append(node.node_id)
        before = table.previous(node.node_id)
        for stats in node.calls:
            row = rows.setdefault(stats.service, ServiceRow(stats.service))
            row.callers.append(_caller(node, stats, before))
    return [rows[name] for name in sorted(rows)]


@get("/services", include_in_schema=False, opt=READ)
async def services_page(
    request: Request[Any, Any, Any], catalog: Catalogue, principal: CurrentPrincipal
) -> Response[str]:
    return page(request, catalog, principal, "services.html", title="Services", active="services")


@get("/services/table", include_in_schema=False, opt=READ)
async def services_table(node_table: NamedDependency[NodeTable]) -> Response[str]:
    """The services table, polled by the page every two seconds."""
    return html(render("services_table.html", rows=service_rows(node_table)))


services_handlers = [services_page, services_table]
