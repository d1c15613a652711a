"""Error dispatch: JSON envelopes under /api/, /core/ and /metrics, the portal's
own pages everywhere else. Whatever raised the error."""
from __future__ import annotations

from flask import Flask
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from app import envelope
from app.extensions import db
from app.services.errors import DomainError

# Werkzeug's status → the envelope's code.
HTTP_CODES = {
    400: "BAD_REQUEST", 401: "AUTHENTICATION_REQUIRED", 403: "INSUFFICIENT_PERMISSIONS",
    404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMIT_EXCEEDED", 503: "SERVICE_UNAVAILABLE",
}


def database_unavailable(exc: BaseException) -> bool:
    """A connection-level failure (server down, restarting, unreachable)."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def register(app: Flask) -> None:
    from app.web.errors import render_error_page, render_unavailable_page

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        if envelope.wants_envelope():
            return envelope.from_domain_error(exc)
        return render_error_page(exc.status if exc.status in (403, 404) else 400)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not envelope.wants_envelope():
            return render_error_page(exc.code or 500, exc)
        code = HTTP_CODES.get(exc.code or 500)
        details: dict = {}
        if isinstance(exc, MethodNotAllowed):
            details["allowed_methods"] = sorted(exc.valid_methods or [])
        if isinstance(exc, RequestEntityTooLarge):
            details["max_bytes"] = app.config["MAX_CONTENT_LENGTH"]
        if code is None:
            code = "BAD_REQUEST" if (exc.code or 500) < 500 else "INTERNAL_SERVER_ERROR"
        response = envelope.error(code, details, status=exc.code if code != "BAD_REQUEST"
                                  or exc.code == 400 else 400)
        if isinstance(exc, MethodNotAllowed):
            response.headers["Allow"] = ", ".join(details["allowed_methods"])
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        try:
            db.session.rollback()
        except Exception:  # the connection itself may be gone
            pass
        if database_unavailable(exc):
            if envelope.wants_envelope():
                return envelope.error("SERVICE_UNAVAILABLE", {}, headers={"Retry-After": "5"})
            return render_unavailable_page(exc)
        if envelope.wants_envelope():
            return envelope.internal_error(exc)
        app.logger.exception("unhandled exception")
        hook = app.extensions.get("jifen.capture_exception")
        if hook is not None:
            hook(exc)
        return render_error_page(500, exc)
