"""Log records made inside a trace carry its ``trace_id`` and ``span_id``, in both formats."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from kernel.context import current_traceparent
from kernel.logs import DevLines, JsonLines, TraceIds
from kernel.telemetry import TelemetrySubsystem, setup_telemetry
from kernel.telemetry._spans import SpanKind, child_span
from kernel.testing import KernelHarness, write_module

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def log_lines() -> Iterator[tuple[logging.Logger, logging.Handler, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(TraceIds())
    logger = logging.getLogger("webos.test.telemetry")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield logger, handler, stream
    finally:
        logger.removeHandler(handler)


def test_json_lines_carry_the_active_span(log_lines) -> None:
    logger, handler, stream = log_lines
    handler.setFormatter(JsonLines())
    setup_telemetry("gateway")
    with child_span("work", SpanKind.INTERNAL) as span:
        logger.info("inside")
    logger.info("outside")

    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    context = span.get_span_context()
    if context.is_valid:  # the SDK is on (OTEL_SDK_DISABLED unset)
        assert inside["trace_id"] == f"{context.trace_id:032x}"
        assert inside["span_id"] == f"{context.span_id:016x}"
    assert "trace_id" not in outside and "span_id" not in outside


def test_dev_lines_show_the_carried_traceparent_without_a_span(log_lines) -> None:
    logger, handler, stream = log_lines
    handler.setFormatter(DevLines())
    token = current_traceparent.set(CALLER)
    try:
        logger.info("carried")
    finally:
        current_traceparent.reset(token)

    line = stream.getvalue().strip()
    assert line.endswith("[trace_id=0af7651916cd43dd8448eb211c80319c span_id=b7ad6b7169203331]")


async def test_a_request_logs_with_its_server_span(
    webos: KernelHarness, tmp_path: Path, log_lines
) -> None:
    _, handler, stream = log_lines
    handler.setFormatter(JsonLines())
    router = """
import logging
from litestar import get
from kernel.auth import PUBLIC

@get("/hello", opt=PUBLIC, sync_to_thread=False)
def hello() -> dict:
    logging.getLogger("webos.test.telemetry").info("handling hello")
    return {}
"""
    write_module(tmp_path / "mods", "talker", {"router.py": router})
    app = await webos.start(modules_path=tmp_path / "mods")

    response = await app.client.get("/api/talker/hello", headers={"traceparent": CALLER})

    assert response.status_code == 200
    entry = next(
        json.loads(line)
        for line in stream.getvalue().splitlines()
        if json.loads(line)["message"] == "handling hello"
    )
    assert entry["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    if app.kernel.get(TelemetrySubsystem).telemetry.tracer_provider is not None:
        assert entry["span_id"] != "b7ad6b7169203331"  # the gateway's server span, a child
