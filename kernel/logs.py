"""Logging set-up for kernel processes: readable lines in dev, JSON lines in prod.

Records made inside a trace carry ``trace_id`` and ``span_id`` (the active span's, or the
``traceparent`` being carried when the SDK is off); both formats show them.

uvicorn's access log (one line per HTTP request) writes its line straight to the kernel's handler
when that handler is the only one it reaches (``AccessLogger``): the same text, without building a
``LogRecord`` (the caller's frame, thread and process names) that nothing reads.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kernel.config import CoreSettings, Environment
from kernel.telemetry import current_ids

#: uvicorn's access logger, named once per HTTP request.
ACCESS_LOGGER = "uvicorn.access"


class TraceIds(logging.Filter):
    """Adds ``trace_id`` and ``span_id`` to every record (empty strings outside a trace)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = current_ids()
        record.trace_id, record.span_id = ids if ids is not None else ("", "")  # type: ignore[attr-defined]
        return True


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = self.line(
            record.created,
            record.levelname,
            record.name,
            record.getMessage(),
            getattr(record, "trace_id", ""),
            getattr(record, "span_id", ""),
            self.formatException(record.exc_info) if record.exc_info else None,
        )
        return text

    @staticmethod
    def line(
        created: float,
        level: str,
        name: str,
        message: str,
        trace_id: str,
        span_id: str,
        exception: str | None = None,
    ) -> str:
        entry = {
            "time": datetime.fromtimestamp(created, UTC).isoformat(),
            "level": level,
            "logger": name,
            "message": message,
        }
        if trace_id:
            entry["trace_id"] = trace_id
            entry["span_id"] = span_id
        if exception:
            entry["exception"] = exception
        return json.dumps(entry)


class DevLines(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        self._second: tuple[int, str] = (-1, "")  # the last second shown, as text

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        return self.asctime(record.created, record.msecs)

    def asctime(self, created: float, msecs: float) -> str:
        """``Formatter.formatTime`` without a datefmt: strftime once per second, not per line."""
        second = int(created)
        if second != self._second[0]:
            self._second = (second, time.strftime(self.default_time_format, self.converter(second)))
        text, msec_format = self._second[1], self.default_msec_format
        return msec_format % (text, msecs) if msec_format else text

    def formatMessage(self, record: logging.LogRecord) -> str:
        return self.line(
            record.asctime,
            record.levelname,
            record.name,
            record.message,
            getattr(record, "trace_id", ""),
            getattr(record, "span_id", ""),
        )

    @staticmethod
    def line(asctime: str, level: str, name: str, message: str, trace_id: str, span_id: str) -> str:
        line = f"{asctime} {level:<7} {name}: {message}"
        if trace_id:
            line += f" [trace_id={trace_id} span_id={span_id}]"
        return line


class KernelHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler ``configure_logging`` installs on the root logger."""

    def __init__(self, formatter: DevLines | JsonLines) -> None:
        super().__init__(sys.stderr)
        self.ids = TraceIds()
        self.addFilter(self.ids)
        self.setFormatter(formatter)

    def write_line(self, levelno: int, name: str, message: str) -> bool:
        """Write what ``emit`` would for a record of ``name`` at ``levelno`` with ``message``
        (no exception), without the record; False (nothing written) when this handler is no
        longer as it was installed, and the caller logs the usual way."""
        formatter = self.formatter
        if levelno < self.level or self.filters != [self.ids] or formatter is None:
            return False
        kind = type(formatter)
        if kind is not DevLines and kind is not JsonLines:  # a subclass may format otherwise
            return False
        created, msecs = _now()
        ids = current_ids()
        trace_id, span_id = ids if ids is not None else ("", "")
        level = logging.getLevelName(levelno)
        if isinstance(formatter, DevLines):
            asctime = formatter.asctime(created, msecs)
            text = DevLines.line(asctime, level, name, message, trace_id, span_id)
        else:
            text = JsonLines.line(created, level, name, message, trace_id, span_id)
        self.acquire()
        try:
            self.stream.write(text + self.terminator)
            self.flush()
        except Exception:
            record = logging.LogRecord(name, levelno, __file__, 0, message, None, None)
            self.handleError(record)  # as emit handles a failed write
        finally:
            self.release()
        return True


class AccessLogger(logging.Logger):
    """``uvicorn.access``: each line goes straight to the kernel's handler when nothing else
    (a filter, another handler, a disabled logger) would see the record; otherwise the usual
    way."""

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        if not self.isEnabledFor(logging.INFO):
            return
        if not kwargs and not (len(args) == 1 and isinstance(args[0], Mapping)):
            handler = _sole_handler(self)
            if handler is not None:
                message = str(msg) % args if args else str(msg)
                if handler.write_line(logging.INFO, self.name, message):
                    return
        kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1  # the caller, not this method
        self._log(logging.INFO, msg, args, **kwargs)


def _now() -> tuple[float, float]:
    """``created`` and ``msecs`` as this Python's ``LogRecord`` takes them (3.13 reads
    ``time_ns``), so a line shows the millisecond a record would."""
    if sys.version_info >= (3, 13):
        ns = time.time_ns()
        return ns / 1e9, (ns % 1_000_000_000) // 1_000_000 + 0.0
    created = time.time()
    return created, int((created - int(created)) * 1000) + 0.0


def _sole_handler(logger: logging.Logger) -> KernelHandler | None:
    """The kernel's handler when it is the only one a record of ``logger`` reaches (and no
    logger filter sees it), else None."""
    if logger.filters or logger.disabled:
        return None
    found: KernelHandler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if found is not None or type(handler) is not KernelHandler:
                return None
            found = handler
        if not current.propagate:
            break
        current = current.parent
    return found


def configure_logging(settings: CoreSettings) -> None:
    handler = KernelHandler(JsonLines() if settings.env is Environment.PROD else DevLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    access = logging.getLogger(ACCESS_LOGGER)
    if type(access) is logging.Logger:  # made before us (uvicorn's own Logger): same object
        access.__class__ = AccessLogger
