"""Span exporters of our own: JSON lines in a file (multi-process tests), and a fan-out processor
that lets exporters be added and removed while the process runs (tests build many kernels)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, StatusCode

#: Faster than ``json.dumps`` and the same JSON for these plain records.
_ENCODER = msgspec.json.Encoder()


def span_record(span: ReadableSpan, pid: int | None = None) -> dict[str, Any]:
    """One finished span as a flat JSON object (ids in W3C hex, times in epoch nanoseconds);
    ``pid`` is this process's id, read once per batch by the exporter."""
    context = span.get_span_context()
    assert context is not None  # a finished span always has one
    parent = span.parent
    attributes = dict(span.attributes or ())
    if tuple in set(map(type, attributes.values())):  # in C: this runs for every span
        attributes = {key: _plain(value) for key, value in attributes.items()}
    return {
        "name": span.name,
        "kind": _KIND_NAMES[span.kind],
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "parent_span_id": format(parent.span_id, "016x") if parent is not None else None,
        "service": span.resource.attributes.get("service.name"),
        "pid": os.getpid() if pid is None else pid,
        "start": span.start_time,
        "end": span.end_time,
        "status": _STATUS_NAMES[span.status.status_code],
        "attributes": attributes,
    }


# Enum ``.name`` is a descriptor call; the exporter thread writes thousands of spans a second.
_KIND_NAMES = {kind: kind.name for kind in SpanKind}
_STATUS_NAMES = {code: code.name for code in StatusCode}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


class FileSpanExporter(SpanExporter):
    """Appends finished spans to ``path`` as JSON lines; several processes may share the file
    (each line is one ``write`` on a file opened for appending)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        encode = _ENCODER.encode
        pid = os.getpid()
        lines = b"".join([encode(span_record(span, pid)) + b"\n" for span in spans])
        with self._lock, self.path.open("ab") as file:
            file.write(lines)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


class SwitchboardProcessor(SpanProcessor):
    """Forwards to a list of processors that may change at run time (the SDK's own list only
    grows: ``TracerProvider`` has no way to remove a processor)."""

    def __init__(self) -> None:
        self._processors: tuple[SpanProcessor, ...] = ()
        self._lock = threading.Lock()

    def add(self, processor: SpanProcessor) -> None:
        with self._lock:
            self._processors = (*self._processors, processor)

    def remove(self, processor: SpanProcessor) -> None:
        with self._lock:
            self._processors = tuple(p for p in self._processors if p is not processor)
        processor.shutdown()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for processor in self._processors:
            processor.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self._processors:
            processor.on_end(span)

    def shutdown(self) -> None:
        for processor in self._processors:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(p.force_flush(timeout_millis) for p in self._processors)
