"""This process's telemetry, as the gateway sets it up, writing its spans to a trace file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kernel.telemetry import TRACE_FILE_ENV, Telemetry, setup_telemetry


@pytest.fixture
def recording(tmp_path: Path) -> Iterator[tuple[Telemetry, Path]]:
    path = tmp_path / "spans.jsonl"
    telemetry = setup_telemetry("gateway", {**os.environ, TRACE_FILE_ENV: str(path)})
    if not telemetry.enabled:
        pytest.skip("OTEL_SDK_DISABLED is set")
    try:
        yield telemetry, path
    finally:
        telemetry.detach_trace_file(str(path))
