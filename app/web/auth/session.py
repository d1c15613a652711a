"""What a portal session carries besides Flask-Login's user id, and when it ends.

A session is valid while the account's `session_version` is the one copied at
sign-in (signing out, a password change or a removed access bump it), it has
been used within SESSION_IDLE_MINUTES, and it began within SESSION_MAX_HOURS.
Times come from the service clock, so tests can move them."""
from __future__ import annotations

from flask import Flask, Request, current_app, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from app.services import clock

VERSION = "jifen_sv"
SINCE = "jifen_since"
SEEN = "jifen_seen"
# `seen` is rewritten at most this often: each rewrite is a new cookie.
SEEN_RESOLUTION_SECONDS = 60


def start(session_version: int) -> None:
    """Call right after login_user with the account's session version (and again
    after this session's own password change, to carry on under the new one)."""
    now = int(clock.now().timestamp())
    session[VERSION] = session_version
    session[SINCE] = now
    session[SEEN] = now


def end() -> None:
    for key in (VERSION, SINCE, SEEN):
        session.pop(key, None)


def is_current(session_version: int) -> bool:
    """Whether the request's session was started under the account's current
    `session_version` and is neither idle nor too old; marks it used."""
    version, since, seen = session.get(VERSION), session.get(SINCE), session.get(SEEN)
    if version != session_version or not isinstance(since, int) \
            or not isinstance(seen, int):
        return False
    now = int(clock.now().timestamp())
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    lifetime = current_app.config["SESSION_MAX_HOURS"] * 3600
    if now - seen > idle or now - since > lifetime:
        return False
    if now - seen >= SEEN_RESOLUTION_SECONDS:
        session[SEEN] = now
    return True


# Paths outside the portal: the API (authenticated by its token alone) and the
# operations endpoints (health, metrics).
NOT_PORTAL = ("/api/", "/core/", "/metrics")


class PortalOnlySessions(SecureCookieSessionInterface):
    """The cookie session is the portal's: it is not opened for the API or the
    operations endpoints, so a portal cookie that a browser sends along has no say
    in an API request, and none of those requests pays for reading and verifying
    one. They get an empty session, never saved (nothing writes to it)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(NOT_PORTAL):
            return self.session_class()
        return super().open_session(app, request)
