"""``/metrics`` on the gateway: guarded by ``system.read``; counters move with the work done."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kernel.telemetry import TelemetrySubsystem
from kernel.testing import KernelHarness, RunningKernel, write_module

PINGER_ROUTER = """
from litestar import post
from kernel import ThisModule
from kernel.auth import PUBLIC
from pinger.tasks import chore


@post("/ping", opt=PUBLIC)
async def ping(module: ThisModule) -> dict:
    await module.emit("pinger.pinged", {"n": 1})
    return {"task_id": (await chore.kiq()).task_id}
"""

PINGER_EVENTS = """
from kernel import on


@on("pinger.pinged")
async def pinged(payload: dict) -> None:
    pass
"""

PINGER_TASKS = """
from kernel.tasks import task


@task
async def chore() -> int:
    return 1
"""


def total(text: str, family: str, **labels: str) -> float:
    """The sum of a family's samples (``_total`` of counters, ``_count`` of histograms)."""
    value = 0.0
    for metrics in text_string_to_metric_families(text):
        if metrics.name != family:
            continue
        for sample in metrics.samples:
            wanted = sample.name in (f"{family}_total", f"{family}_count")
            if wanted and all(sample.labels.get(k) == v for k, v in labels.items()):
                value += sample.value
    return value


async def scrape(app: RunningKernel) -> str:
    response = await app.client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


@pytest.fixture(autouse=True)
def _metrics_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBOS_METRICS", "on")  # metrics are recorded when asked for


@pytest.fixture
def pinger(tmp_path: Path) -> Path:
    root = tmp_path / "mods"
    write_module(
        root,
        "pinger",
        {"router.py": PINGER_ROUTER, "events.py": PINGER_EVENTS, "tasks.py": PINGER_TASKS},
        manifest='name = "pinger"\nemits = ["pinger.pinged"]\n',
    )
    return root


async def test_metrics_need_system_read(webos: KernelHarness, pinger: Path) -> None:
    app = await webos.start(modules_path=pinger)

    assert (await app.client.get("/metrics")).status_code == 401
    denied = await app.client.get("/metrics", headers=app.auth_headers(roles=("user",)))
    assert denied.status_code == 403
    allowed = await app.client.get("/metrics", headers=app.auth_headers())
    assert allowed.status_code == 200


async def test_counts_go_up_with_requests_events_and_tasks(
    webos: KernelHarness, pinger: Path
) -> None:
    webos.sign_in_as("admin")
    app = await webos.start(modules_path=pinger, tasks_worker=True)
    if not app.kernel.get(TelemetrySubsystem).telemetry.enabled:
        pytest.skip("OTEL_SDK_DISABLED is set")
    handled = {"subject": "pinger.pinged", "outcome": "handled"}
    ran = {"task": "pinger.chore", "outcome": "succeeded"}
    before = await scrape(app)

    for _ in range(3):
        assert (await app.client.post("/api/pinger/ping")).status_code == 201

    after = before
    for _ in range(100):  # events and tasks finish after the responses
        after = await scrape(app)
        if (
            total(after, "webos_events_handled", **handled)
            >= total(before, "webos_events_handled", **handled) + 3
            and total(after, "webos_tasks_runs", **ran)
            >= total(before, "webos_tasks_runs", **ran) + 3
        ):
            break
        await asyncio.sleep(0.1)
    for family, labels, grew_by in [
        ("webos_events_published", {"subject": "pinger.pinged"}, 3),
        ("webos_events_handled", handled, 3),
        ("webos_events_duration_seconds", handled, 3),
        ("webos_tasks_sent", {"task": "pinger.chore"}, 3),
        ("webos_tasks_runs", ran, 3),
        ("webos_tasks_duration_seconds", ran, 3),
    ]:
        assert total(after, family, **labels) >= total(before, family, **labels) + grew_by, (
            family,
            [m.name for m in text_string_to_metric_families(after)],
        )
    # HTTP metrics (ASGI instrumentation) are labelled by port; a long test session opens
    # more series than the SDK's cardinality limit and later ones fold into an overflow series.
    http = {"http_method": "POST", "net_host_port": app.url.rsplit(":", 1)[1]}
    family = "http_server_duration_milliseconds"
    if 'otel_metric_overflow="true"' not in after:
        assert total(after, family, **http) >= total(before, family, **http) + 3


def test_metrics_and_spans_stay_off_unless_asked_for() -> None:
    from kernel.telemetry._sdk import _exporter_names
    from kernel.telemetry._settings import read_telemetry_settings as read
    from kernel.telemetry._setup import metrics_wanted as _metrics_wanted
    from kernel.telemetry._setup import tracing_forced as _tracing_forced

    assert not _metrics_wanted(read({}))
    assert not _tracing_forced(read({"WEBOS_TRACING": ""}))  # compose's unset variables
    assert _exporter_names({}, "OTEL_TRACES_EXPORTER", "TRACES") == []
    assert _metrics_wanted(read({"WEBOS_METRICS": "on"}))
    assert _metrics_wanted(read({"WEBOS_METRICS_PORT": "9464"}))
    assert _tracing_forced(read({"WEBOS_TRACING": "yes"}))
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
    assert _exporter_names(endpoint, "OTEL_TRACES_EXPORTER", "TRACES") == ["otlp"]
