"""The integration JSON API (CONTRACT.md's API table) and its error-code pages.

Views parse the request, call one service, render the result. Authentication
and permissions are the `auth.requires` decorator's; the tenant comes from the
token alone.
"""
from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, g, request
from flask_limiter import RateLimitExceeded

from app import envelope
from app.extensions import csrf
from app.services.errors import INVALID_TOKEN, DomainError

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.before_request
def _forget_previous_principal() -> None:
    # g outlives the request when an app context was pushed beforehand (tests, CLI).
    g.pop("api_principal", None)


@bp.before_request
def _options() -> Response | None:
    """OPTIONS answers which methods the path allows: 204, an `Allow` header and no
    body (Flask's own answer is a 200 with an empty HTML body)."""
    if request.method != "OPTIONS" or \
            not getattr(request.url_rule, "provide_automatic_options", False):
        return None
    allowed = current_app.make_default_options_response().allow
    response = Response(status=204)
    del response.headers["Content-Type"]
    response.headers["Allow"] = ", ".join(sorted(allowed))  # as 405's allowed_methods
    return response


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    response = envelope.from_domain_error(exc)
    if exc.status == 401:
        # RFC 6750: tell the client which scheme to use and what went wrong.
        challenge = 'Bearer realm="jifen"'
        if exc.code == INVALID_TOKEN:
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
    return response


@bp.errorhandler(RateLimitExceeded)
def _rate_limited(exc: RateLimitExceeded) -> Response:
    from app.api.ratelimit import too_many_requests

    return too_many_requests(exc)


def register(app: Flask) -> None:
    # Importing the view modules attaches their routes to the blueprints.
    from app.api import auth, openapi, points, profiles, programme, vip, webhooks  # noqa: F401
    from app.api.docs import bp as docs_bp

    csrf.exempt(bp)  # token-authenticated: no cookies, so no cross-site forgery
    app.register_blueprint(bp)
    app.register_blueprint(docs_bp)
