"""Logging set-up for kernel processes: readable lines in dev, JSON lines in prod."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from kernel.settings import Environment, KernelSettings


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(settings: KernelSettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.env is Environment.PROD:
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
