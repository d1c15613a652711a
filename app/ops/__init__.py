"""Operations: health, metrics, error tracking, request logs, hardening and the
maintenance window. Each module has a `register(app)`; `register_all` calls them
in the order their request hooks must run."""
from __future__ import annotations

from flask import Flask


def register_all(app: Flask) -> None:
    from app.ops import health, maintenance, metrics, request_log, security, sentry

    sentry.register(app)
    # Hooks run in registration order: the redirect to HTTPS first, then timing,
    # then the maintenance window, which may answer before any view runs.
    security.register(app)
    request_log.register(app)
    metrics.register(app)
    maintenance.register(app)
    health.register(app)
