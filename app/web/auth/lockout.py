"""The sign-in lockout: failed sign-ins are limited per account and per address.

A security control, not a rate limit: RATELIMIT_ENABLED=false (load tests)
switches Flask-Limiter off, and must not switch this off with it. So it counts
with the `limits` library Flask-Limiter is built on, directly, in the same
storage (Redis when REDIS_URL is set, shared by every worker). Only failures
count (a 401 from the view), so a person who types the password right is never
held up by their own earlier success; once an account or an address has spent
its allowance, its sign-ins are refused before the password is checked.
"""
from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, make_response, request
from flask.blueprints import BlueprintSetupState
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from app.request_context import client_ip
from app.web.auth import bp
from app.web.errors import render_error_page

log = logging.getLogger("jifen.auth")
F = TypeVar("F", bound=Callable[..., Any])
EXTENSION = "jifen.login_lockout"


class Lockout:
    """Counters of one application; Redis errors fall back to process memory, so
    an outage weakens the lockout to per-worker counting instead of failing sign-ins."""

    def __init__(self, storage_uri: str, options: dict[str, Any]) -> None:
        self._primary = FixedWindowRateLimiter(storage_from_string(storage_uri, **options))
        self._memory = FixedWindowRateLimiter(MemoryStorage())

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self._primary, method)(*args)
        except Exception:  # the storage is unreachable
            log.warning("sign-in lockout storage unreachable; counting in memory")
            return getattr(self._memory, method)(*args)

    def test(self, item: RateLimitItem, key: str) -> bool:
        return self._call("test", item, "login", key)

    def hit(self, item: RateLimitItem, key: str) -> None:
        self._call("hit", item, "login", key)

    def retry_after(self, item: RateLimitItem, key: str) -> int:
        stats = self._call("get_window_stats", item, "login", key)
        return max(1, math.ceil(stats.reset_time - time.time()))


@bp.record_once
def _register(state: BlueprintSetupState) -> None:
    config = state.app.config
    state.app.extensions[EXTENSION] = Lockout(config.get("RATELIMIT_STORAGE_URI") or "memory://",
                                              dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {}))


def _limits() -> list[tuple[RateLimitItem, str]]:
    email = (request.form.get("email") or "").strip().lower()[:254]
    return [
        (parse(current_app.config.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")),
         "account:" + email),
        (parse(current_app.config.get("LOGIN_LIMIT_PER_IP", "30 per 15 minutes")),
         "ip:" + (client_ip() or "unknown")),
    ]


def guard(view: F) -> F:
    """A sign-in view: POSTs are refused (429) while a limit is spent, and a
    failed one (401) counts against both."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method != "POST":
            return view(*args, **kwargs)
        lockout: Lockout = current_app.extensions[EXTENSION]
        limits = _limits()
        for item, key in limits:
            if not lockout.test(item, key):
                response = make_response(render_error_page(429))
                response.headers["Retry-After"] = str(lockout.retry_after(item, key))
                return response
        response = make_response(view(*args, **kwargs))
        if response.status_code == 401:
            for item, key in limits:
                lockout.hit(item, key)
        return response

    return wrapper  # type: ignore[return-value]
