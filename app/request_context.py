"""The request id: taken from X-Request-ID when sane, else generated; returned on
every response and carried into the audit log, the logs and error envelopes."""
from __future__ import annotations

import re
import uuid

from flask import Flask, g, request, request_started, request_tearing_down

from app.services import cache_invalidation

_SANE = re.compile(r"^[A-Za-z0-9\-_.:]{1,128}$")


def request_id() -> str:
    rid = getattr(g, "request_id", None)
    if rid is None:
        incoming = request.headers.get("X-Request-ID", "") if request else ""
        rid = incoming if _SANE.match(incoming) else str(uuid.uuid4())
        g.request_id = rid
    return rid


def client_ip() -> str | None:
    # ProxyFix (configured from the environment) has already applied X-Forwarded-For.
    return request.remote_addr


def _begin_scope(sender: Flask, **_: object) -> None:
    cache_invalidation.begin_request_scope()


def _end_scope(sender: Flask, **_: object) -> None:
    cache_invalidation.end_request_scope()


def register(app: Flask) -> None:
    # Signals, not before_request: they bracket every hook of the request,
    # the rate limiter's (which may load the API principal) included.
    request_started.connect(_begin_scope, app)
    request_tearing_down.connect(_end_scope, app)

    @app.before_request
    def _assign_request_id() -> None:
        # `g` outlives a request when an app context was already pushed (tests,
        # CLI): never let one request inherit the previous request's id.
        g.pop("request_id", None)
        request_id()

    @app.after_request
    def _return_request_id(response):
        response.headers["X-Request-ID"] = request_id()
        return response
