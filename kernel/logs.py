"""Logging set-up for kernel processes: readable lines in dev, JSON lines in prod.

Records made inside a trace carry ``trace_id`` and ``span_id`` (the active span's, or the
``traceparent`` being carried when the SDK is off); both formats show them.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from kernel.config import CoreSettings, Environment
from kernel.telemetry import current_ids


class TraceIds(logging.Filter):
    """Adds ``trace_id`` and ``span_id`` to every record (empty strings outside a trace)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = current_ids()
        record.trace_id, record.span_id = ids if ids is not None else ("", "")  # type: ignore[attr-defined]
        return True


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        trace_id = getattr(record, "trace_id", "")
        if trace_id:
            entry["trace_id"] = trace_id
            entry["span_id"] = getattr(record, "span_id", "")
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class DevLines(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        trace_id = getattr(record, "trace_id", "")
        if trace_id:
            line += f" [trace_id={trace_id} span_id={getattr(record, 'span_id', '')}]"
        return line


def configure_logging(settings: CoreSettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(TraceIds())
    handler.setFormatter(JsonLines() if settings.env is Environment.PROD else DevLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
