"""One JSON line per request on the `jifen.request` logger, and a filter that
keeps secrets out of every `jifen` log line."""
from __future__ import annotations

import logging
import re
import time
from typing import Any

from flask import Flask, Response, g, request

from app.logging_setup import RECORD_ATTRS
from app.request_context import client_ip, request_id

log = logging.getLogger("jifen.request")

SECRET_FIELDS = re.compile(
    r"pass(word|wd)?|secret|token|authorization|cookie|api[_-]?key|signature|credential",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]+", re.IGNORECASE)
_KEY_VALUE = re.compile(
    r"((?:pass(?:word|wd)?|secret|token|api[_-]?key|client_secret|refresh_token|access_token)"
    r"[\"']?\s*[=:]\s*[\"']?)[^\s&,\"']+",
    re.IGNORECASE,
)
# What any of the two patterns above needs to find: most text has none of these,
# and one search is cheaper than the two substitutions.
_MAY_HOLD_SECRET = re.compile(r"pass|secret|token|api[_-]?key|bearer|basic", re.IGNORECASE)
REDACTED = "[redacted]"


def redact_text(text: str) -> str:
    if not _MAY_HOLD_SECRET.search(text):
        return text
    return _KEY_VALUE.sub(lambda m: m.group(1) + REDACTED, _BEARER.sub(r"\1 " + REDACTED, text))


class RedactSecrets(logging.Filter):
    """Scrub fields named like secrets and bearer tokens or `password=` pairs in
    messages, whoever logged them."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = vars(record)
        for key in fields.keys() - RECORD_ATTRS:
            value = fields[key]
            if SECRET_FIELDS.search(key):
                fields[key] = REDACTED
            elif isinstance(value, str):
                fields[key] = redact_text(value)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: leave it for the formatter to report
            return True
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def actor_label() -> str:
    """Who made the request, by id only: never a name, email or token. Reads
    only what the auth layers already loaded, so logging costs no query."""
    principal = getattr(g, "api_principal", None)  # set by the API's bearer-token check
    if principal is not None:
        return f"api_client:{principal.client_pk}"
    user = getattr(g, "_login_user", None)  # set by Flask-Login once it loaded the user
    if user is not None and getattr(user, "is_authenticated", False):
        return f"staff:{getattr(user, 'id', '?')}"
    return "anonymous"


def tenant_label() -> str | None:
    principal = getattr(g, "api_principal", None)
    if principal is not None:
        return str(principal.tenant_id)
    tenant = getattr(g, "tenant", None)
    if tenant is not None:
        return str(getattr(tenant, "slug", None) or getattr(tenant, "id", ""))
    slug = (request.view_args or {}).get("slug")
    return str(slug) if slug else None


STARTED = "jifen.request_started"


def request_started() -> float | None:
    return request.environ.get(STARTED)


class StampStart:
    """Note when the request arrived, before any hook (CSRF, rate limits,
    maintenance) can answer it, so every response gets its duration."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ[STARTED] = time.perf_counter()
        return self.app(environ, start_response)


def register(app: Flask) -> None:
    root = logging.getLogger("jifen")
    for handler in root.handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())

    app.wsgi_app = StampStart(app.wsgi_app)  # type: ignore[method-assign]

    @app.after_request
    def _log_request(response: Response) -> Response:
        started = request_started()
        fields: dict[str, Any] = {
            "method": request.method,
            "path": request.path,  # never the query string: it may carry a token
            "endpoint": request.url_rule.rule if request.url_rule else None,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "request_id": request_id(),
            "tenant": tenant_label(),
            "actor": actor_label(),
            "ip": client_ip(),
        }
        log.info("request", extra=fields)
        return response
