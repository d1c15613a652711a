"""The maintenance window at the door: the API gets 503 SERVICE_UNAVAILABLE
envelopes, the portal a maintenance page; health, metrics, static files and
sign-in stay open so operators can watch and sign in."""
from __future__ import annotations

import logging
import time

from flask import Flask, Response, current_app, render_template, request
from sqlalchemy.exc import SQLAlchemyError

from app import envelope
from app.request_context import request_id
from app.extensions import db
from app.services import clock
from app.services import maintenance as service

log = logging.getLogger("jifen.maintenance")

OPEN_PREFIXES = ("/core/", "/metrics", "/static/", "/docs/")
OPEN_ENDPOINTS = {"static", "auth.login", "auth.logout"}


def window_now() -> service.Window | None:
    """The active window, read at most every MAINTENANCE_CACHE_SECONDS per process.

    A window read from the database counts as on for one TTL after that read,
    whether or not the database can be read again: maintenance often takes the
    database down, and the API keeps saying so meanwhile. Never longer: a window
    this process could not confirm may have been turned off by another process
    (`flask maintenance off`), and an outage must not carry it on (nor its
    Retry-After of an hour). Once it is stale, the outage's own 503 answers.
    A failed read waits a TTL too, so an outage does not cost every request an
    extra connect. A maintenance check must never be what fails a request."""
    ttl = float(current_app.config.get("MAINTENANCE_CACHE_SECONDS", 5.0))
    memo = current_app.extensions.setdefault(
        "jifen.maintenance", {"at": None, "window": None, "confirmed": None})
    now = time.monotonic()
    if memo["at"] is None or now - memo["at"] >= ttl:
        memo["at"] = now
        try:
            memo["window"] = service.stored()
            memo["confirmed"] = now
            db.session.commit()  # end the read transaction; views start their own
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("maintenance window unreadable; the last one read stands for one TTL")
    confirmed = memo.get("confirmed")
    if confirmed is None or now - confirmed > max(ttl, 0.0):
        memo["window"] = None
    window = memo["window"]
    return window if window is not None and window.is_active(clock.now()) else None


def forget() -> None:
    """Drop this process's cached window (tests, and the CLI after a change)."""
    current_app.extensions.pop("jifen.maintenance", None)


def details(window: service.Window) -> dict:
    return {
        "maintenance_window": {"start": window.start, "end": window.end},
        "estimated_downtime": window.estimated_downtime,
        "alternative_endpoints": [],
    }


def maintenance_response(window: service.Window) -> Response:
    retry = str(window.retry_after(clock.now()))
    if request.path.startswith("/api/"):
        return envelope.error("SERVICE_UNAVAILABLE", details(window),
                              message=window.message or None, headers={"Retry-After": retry})
    response = current_app.make_response((
        render_template("errors/maintenance.html", window=window, request_id=request_id()), 503))
    response.headers["Retry-After"] = retry
    return response


def register(app: Flask) -> None:
    @app.before_request
    def _maintenance_gate() -> Response | None:
        if request.path.startswith(OPEN_PREFIXES) or request.endpoint in OPEN_ENDPOINTS:
            return None
        window = window_now()
        return maintenance_response(window) if window is not None else None
