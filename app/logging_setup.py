"""Logs are JSON lines on stderr: one per request and one per business event."""
from __future__ import annotations

import logging
import sys

from flask import Flask
from pythonjsonlogger.json import JsonFormatter


def configure(app: Flask) -> None:
    root = logging.getLogger("jifen")
    if getattr(root, "_jifen_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level"},
    ))
    root.addHandler(handler)
    root.propagate = False
    root._jifen_configured = True  # type: ignore[attr-defined]
    if app.config.get("TESTING"):
        root.setLevel(logging.WARNING)
