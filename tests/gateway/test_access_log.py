"""uvicorn's access log: the kernel writes its line straight to its own handler, and the line is
exactly what the logging machinery would have printed; anything else that should see the record
(another handler, a filter, a level) still does."""

from __future__ import annotations

import io
import json
import logging
import time

import pytest

from kernel.context import current_traceparent
from kernel.logs import ACCESS_LOGGER, AccessLogger, DevLines, JsonLines, KernelHandler

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
FORMAT = '%s - "%s %s HTTP/%s" %d'
ARGS = ("127.0.0.1:5000", "GET", "/api/x/ping?a=1", "1.1", 200)


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_765_000_000.0421)
    monkeypatch.setattr(time, "time_ns", lambda: 1_765_000_000_042_100_000)  # Python 3.13


def logged(formatter: DevLines | JsonLines, *, fast: bool) -> str:
    """What a line of the access log prints through the kernel's handler, by the fast path or
    by a plain logger (the record's way)."""
    stream = io.StringIO()
    handler = KernelHandler(formatter)
    handler.setStream(stream)
    logger = (AccessLogger if fast else logging.Logger)(ACCESS_LOGGER)
    logger.addHandler(handler)
    logger.info(FORMAT, *ARGS)
    return stream.getvalue()


@pytest.fixture(params=["dev", "json"])
def formatter(request: pytest.FixtureRequest) -> DevLines | JsonLines:
    return DevLines() if request.param == "dev" else JsonLines()


def test_the_line_is_the_one_the_record_would_print(formatter: DevLines | JsonLines) -> None:
    line = logged(formatter, fast=True)
    assert line == logged(type(formatter)(), fast=False)
    message = json.loads(line)["message"] if isinstance(formatter, JsonLines) else line
    assert '127.0.0.1:5000 - "GET /api/x/ping?a=1 HTTP/1.1" 200' in message
    assert line.endswith("\n") and line.count("\n") == 1


def test_inside_a_trace_the_line_carries_its_ids(formatter: DevLines | JsonLines) -> None:
    token = current_traceparent.set(CALLER)
    try:
        line = logged(formatter, fast=True)
        assert line == logged(type(formatter)(), fast=False)
    finally:
        current_traceparent.reset(token)
    if isinstance(formatter, JsonLines):
        assert json.loads(line)["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    else:
        assert line.rstrip().endswith(
            "[trace_id=0af7651916cd43dd8448eb211c80319c span_id=b7ad6b7169203331]"
        )


def test_the_dev_time_is_shown_to_the_millisecond() -> None:
    assert logged(DevLines(), fast=True).startswith(
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(1_765_000_000)) + ",042 INFO    "
    )


@pytest.mark.parametrize("where", ["same logger", "parent logger"])
def test_another_handler_gets_the_record_with_the_callers_place(where: str) -> None:
    stream, recorder = io.StringIO(), Recorder()
    handler = KernelHandler(DevLines())
    handler.setStream(stream)
    logger = AccessLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    if where == "same logger":
        logger.addHandler(recorder)
    else:  # as a handler added to the root logger next to the kernel's
        logger.parent = logging.Logger("webos-test-root")
        logger.parent.addHandler(recorder)
    logger.info(FORMAT, *ARGS)
    (record,) = recorder.records
    assert record.getMessage() == FORMAT % ARGS
    assert record.funcName == "test_another_handler_gets_the_record_with_the_callers_place"
    assert stream.getvalue().count("\n") == 1


@pytest.mark.parametrize(
    "stop", ["logger filter", "logger level", "handler level", "handler filter"]
)
def test_a_filter_or_a_level_still_stops_the_line(stop: str) -> None:
    stream = io.StringIO()
    handler = KernelHandler(DevLines())
    handler.setStream(stream)
    logger = AccessLogger(ACCESS_LOGGER)  # a new one: not in the manager, its level not cached
    logger.addHandler(handler)
    if stop == "logger filter":
        logger.addFilter(lambda record: False)
    elif stop == "logger level":
        logger.setLevel(logging.WARNING)
    elif stop == "handler level":
        handler.setLevel(logging.WARNING)
    else:
        handler.addFilter(lambda record: False)
    logger.info(FORMAT, *ARGS)
    assert stream.getvalue() == ""


def test_a_record_that_reaches_no_handler_the_usual_way_is_unchanged() -> None:
    """Through the root logger's chain (propagation), as uvicorn's logger reaches the kernel's
    handler in a running gateway."""
    stream = io.StringIO()
    handler = KernelHandler(DevLines())
    handler.setStream(stream)
    parent = logging.Logger("webos-test-root")
    parent.addHandler(handler)
    logger = AccessLogger(ACCESS_LOGGER)
    logger.parent = parent
    logger.info(FORMAT, *ARGS)
    parent.propagate = False
    logger.propagate = False
    logger.info(FORMAT, *ARGS)  # reaches no handler: logging's last resort takes WARNING only
    assert stream.getvalue().count("\n") == 1
