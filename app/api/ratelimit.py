"""Rate limits of the API (seed 000: anonymous 100/hour, authenticated
1000/hour, points operations 500/hour), from RATELIMIT_DEFAULTS.

The anonymous limit is per client address and counts every API request that
is not authenticated: the token routes, and any request whose token is
missing or wrong. Authenticated limits are per API client and shared across
routes; a client's own `rate_limit` replaces the points-operation limit. The
limits are decorators applied *inside* the authentication decorator:
Flask-Limiter checks a decorated view when it is called, so the principal (the
key) is known by then.
Storage is Redis when REDIS_URL is set, with Flask-Limiter's in-memory fallback
so a Redis outage degrades limiting instead of failing requests.
RATELIMIT_ENABLED=false switches Flask-Limiter, so these limits, off (load
tests); the portal's sign-in lockout does not use it (app/web/auth/lockout.py).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, g
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address

from app import envelope
from app.extensions import limiter

F = TypeVar("F", bound=Callable[..., Any])


def client_key() -> str:
    return f"api-client:{g.api_principal.client_pk}"


def _anonymous_limit() -> str:
    return current_app.config["RATELIMIT_ANONYMOUS"]


def _authenticated_limit() -> str:
    return current_app.config["RATELIMIT_AUTHENTICATED"]


def _points_limit() -> str:
    return g.api_principal.rate_limit or current_app.config["RATELIMIT_POINTS"]


def _unauthenticated(_response: Response) -> bool:
    return g.get("api_principal") is None


anonymous = limiter.shared_limit(_anonymous_limit, scope="api-anonymous",
                                 key_func=get_remote_address)
authenticated = limiter.shared_limit(_authenticated_limit, scope="api-authenticated",
                                     key_func=client_key)
_points = limiter.shared_limit(_points_limit, scope="api-points", key_func=client_key)


@limiter.shared_limit(_anonymous_limit, scope="api-anonymous", key_func=get_remote_address,
                      deduct_when=_unauthenticated)
def _anonymous_allowance() -> None:
    """Same scope and key as `anonymous`: one allowance per address."""


def before_authentication() -> None:
    """Refuse (429) a request from an address whose anonymous allowance is spent,
    before its token is even looked at, and count the request against that
    allowance when it ends unauthenticated. Checking only after a failure would
    still let a guesser tell a right token (200) from wrong ones (429) at full
    speed; the price is that a spent address waits, valid token or not, as it
    already does for the token route."""
    # Flask-Limiter's bookkeeping costs tens of microseconds even when it is
    # switched off: skip it then (load tests run with RATELIMIT_ENABLED=false).
    if current_app.config["RATELIMIT_ENABLED"]:
        _anonymous_allowance()


def points(view: F) -> F:
    """Both the client's request limit and its points-operation limit."""
    return authenticated(_points(view))


def retry_after(exc: RateLimitExceeded) -> int:
    """Seconds until the breached window resets."""
    window = max(1, int(exc.limit.limit.get_expiry()))
    try:
        current = limiter.current_limit
        if current is not None:
            # reset_at is rounded up to a whole second: never say more than a window.
            return min(window, max(1, math.ceil(current.reset_at - time.time())))
    except Exception:  # storage unreachable: the window length is an honest upper bound
        pass
    return window


def too_many_requests(exc: RateLimitExceeded) -> Response:
    seconds = retry_after(exc)
    return envelope.error("RATE_LIMIT_EXCEEDED", {"retry_after": seconds, "limit": str(exc.limit.limit)},
                          headers={"Retry-After": str(seconds)})
