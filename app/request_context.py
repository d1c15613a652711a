"""The request id: taken from X-Request-ID when sane, else generated; returned on
every response and carried into the audit log, the logs and error envelopes."""
from __future__ import annotations

import re
import uuid

from flask import Flask, g, has_request_context, request, request_started

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


def _forget_catalogue_versions(sender: Flask, **_: object) -> None:
    # `g` outlives a request when an app context was already pushed (tests, CLI).
    # A signal, not before_request: it comes before every hook, the rate
    # limiter's (which may load the API principal and note a version) included.
    g.pop("catalogue_versions", None)


def _catalogue_versions() -> dict[int, int] | None:
    # In `g`: it lives exactly as long as the request, a streamed response included.
    if not has_request_context():
        return None
    return g.setdefault("catalogue_versions", {})


def register(app: Flask) -> None:
    cache_invalidation.use_request_store(_catalogue_versions)
    request_started.connect(_forget_catalogue_versions, app)

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
