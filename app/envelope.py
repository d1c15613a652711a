"""The API's success and error envelopes (CONTRACT.md), shared by every JSON
route: /api/, /core/ and /metrics."""
from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, UTC
from typing import Any

from flask import Response, current_app, json, request, url_for

from app.request_context import request_id
from app.services import clock
from app.services.errors import DomainError, lookup

log = logging.getLogger("jifen.errors")

JSON_PREFIXES = ("/api/", "/core/", "/metrics")


def wants_envelope() -> bool:
    """Errors of these paths are JSON envelopes, never HTML pages."""
    path = request.path if request else ""
    return path.startswith(JSON_PREFIXES) or path == "/metrics"


iso = clock.iso_z


def jsonable(value: Any) -> Any:
    """Datetimes as ISO 8601 Z strings, lazy strings as text, recursively."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)  # lazy translation strings and the like


def _json_response(body: dict[str, Any], status: int,
                   headers: dict[str, str] | None = None) -> Response:
    return respond_text(json.dumps(body, ensure_ascii=False), status, headers)


def success(data: Any, status: int = 200, page_info: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    return _json_response(success_body(data, page_info), status, headers)


def success_body(data: Any, page_info: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"success": True, "data": jsonable(data)}
    if page_info is not None:
        body["page_info"] = page_info
    return body


def documentation_url(code: str) -> str:
    try:
        return url_for("docs.error_code", code=code, _external=True)
    except Exception:  # the docs blueprint is not registered (or no request)
        return f"{request.host_url.rstrip('/')}/docs/errors/{code}" if request else \
            f"/docs/errors/{code}"


def error_body(code: str, details: dict[str, Any] | None = None,
               message: str | None = None) -> dict[str, Any]:
    entry = lookup(code)
    return {"success": False, "error": {
        "code": code,
        "message": message if message is not None else (str(entry.message) if entry else code),
        "details": jsonable(details or {}),
        "request_id": request_id(),
        "timestamp": iso(datetime.now(UTC)),
        "documentation_url": documentation_url(code),
    }}


def error(code: str, details: dict[str, Any] | None = None, message: str | None = None,
          status: int | None = None, headers: dict[str, str] | None = None) -> Response:
    entry = lookup(code)
    status = status or (entry.status if entry else 500)
    return _json_response(error_body(code, details, message), status, headers)


def from_domain_error(exc: DomainError) -> Response:
    return error(exc.code, exc.details, exc.text(), exc.status)


def internal_error(exc: BaseException | None = None) -> Response:
    """500 with an error id to quote; the traceback goes to the log (and Sentry
    when configured), never to the client."""
    error_id = None
    hook = current_app.extensions.get("jifen.capture_exception")
    if hook is not None and exc is not None:
        error_id = hook(exc)
    error_id = error_id or f"ERR_{datetime.now(UTC):%Y%m%d%H%M%S}_{uuid.uuid4().hex[:8]}"
    log.error("unhandled exception", exc_info=exc,
              extra={"error_id": error_id, "request_id": request_id(), "path": request.path})
    details: dict[str, Any] = {"error_id": error_id, "retry_after": 30}
    for key, setting in (("support_contact", "SUPPORT_CONTACT"), ("status_page", "STATUS_PAGE_URL")):
        if current_app.config.get(setting):
            details[key] = current_app.config[setting]
    return error("INTERNAL_SERVER_ERROR", details)


def respond(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    """An already built envelope body, sent as is."""
    return _json_response(body, status, headers)


def respond_text(text: str, status: int, headers: dict[str, str] | None = None) -> Response:
    """An envelope already encoded as JSON (an idempotent write's stored answer)."""
    response = current_app.response_class(text, status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
