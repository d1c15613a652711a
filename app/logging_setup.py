"""Logs are JSON lines on stderr: one per request and one per business event."""
from __future__ import annotations

import json
import logging
import sys
import time
from datetime import date
from typing import Any

from flask import Flask

# Attributes every LogRecord has: the line's own fields are the others.
RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName"}


class JsonLines(logging.Formatter):
    """One JSON object a line: time (local, as logging writes it, to the
    millisecond), level, logger name, message, then every field passed in `extra`;
    a traceback as `exc_info`. Written for the two lines every API request logs:
    the time's text is kept for the second it names, and nothing else is looked
    up per record."""

    _second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second[0]:
            self._second = (second, time.strftime("%Y-%m-%d %H:%M:%S", self.converter(second)))
        line: dict[str, Any] = {
            "time": f"{self._second[1]},{int(record.msecs):03d}", "level": record.levelname,
            "name": record.name, "message": record.getMessage()}
        fields = vars(record)
        for key in fields.keys() - RECORD_ATTRS:
            line[key] = fields[key]
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=_plain)


def _plain(value: Any) -> Any:
    """What json cannot write itself: times as ISO 8601, anything else as text."""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def configure(app: Flask) -> None:
    root = logging.getLogger("jifen")
    if getattr(root, "_jifen_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root.addHandler(handler)
    root.propagate = False
    root._jifen_configured = True  # type: ignore[attr-defined]
    if app.config.get("TESTING"):
        root.setLevel(logging.WARNING)
