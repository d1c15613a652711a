"""Error tracking with Sentry, on when SENTRY_DSN is set.

No personal data leaves the process: emails, phone numbers, tokens, passwords,
Authorization and Cookie are scrubbed from every event and breadcrumb before it
is sent, local variables are not captured, and the user is known only as
`staff:<id>` or `api_client:<id>`. A 500's `error_id` is the Sentry event id, so
support can find the event from what the client quotes."""
from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, has_request_context

from app.ops.request_log import SECRET_FIELDS, actor_label, redact_text, tenant_label
from app.request_context import request_id

FILTERED = "[Filtered]"
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# International or mainland-China style numbers: +86 138 0013 8000, 13800138000, +1-202-555-0101.
_PHONE = re.compile(r"(?<![\w.])\+?\d{1,3}[ \-]?\(?\d{2,4}\)?[ \-]?\d{3,4}[ \-]?\d{3,4}(?![\w.])")
PII_FIELDS = re.compile(r"e-?mail|phone|mobile", re.IGNORECASE)
# Structural parts of an event: never personal, and changing them breaks it.
_KEEP = {"event_id", "timestamp", "start_timestamp", "platform", "sdk", "modules", "release",
         "environment", "trace_id", "span_id", "parent_span_id", "level", "type", "lineno",
         "colno", "in_app", "abs_path", "filename", "module", "function", "op", "origin"}


def scrub_text(text: str) -> str:
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", redact_text(text)))


def scrub(value: Any, key: str = "") -> Any:
    if key in _KEEP:
        return value
    if key and (SECRET_FIELDS.search(key) or PII_FIELDS.search(key)):
        return FILTERED
    if isinstance(value, dict):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        # Header lists come as [name, value] pairs.
        if len(value) == 2 and isinstance(value[0], str) and (
                SECRET_FIELDS.search(value[0]) or PII_FIELDS.search(value[0])):
            return [value[0], FILTERED]
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    event.pop("user", None)  # whatever an integration put there: we send the id alone
    user = None
    if has_request_context():
        user = {"id": actor_label()}
        tags = event.setdefault("tags", {})
        tags["request_id"] = request_id()
        tenant = tenant_label()
        if tenant:
            tags["tenant"] = tenant
    cleaned = scrub(event)
    if user is not None:
        cleaned["user"] = user
    return cleaned


def before_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    return scrub(crumb)


def capture(exc: BaseException) -> str | None:
    import sentry_sdk

    return sentry_sdk.capture_exception(exc)


def register(app: Flask) -> None:
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration
    from sentry_sdk.integrations.redis import RedisIntegration
    from sentry_sdk.integrations.sqlalchemy import SqlalchemyIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    options: dict[str, Any] = {}
    if app.config.get("SENTRY_TRANSPORT") is not None:  # tests capture events locally
        options["transport"] = app.config["SENTRY_TRANSPORT"]
    sentry_sdk.init(
        dsn=dsn,
        environment=app.config.get("SENTRY_ENVIRONMENT"),
        release=app.config.get("SENTRY_RELEASE"),
        traces_sample_rate=float(app.config.get("SENTRY_TRACES_SAMPLE_RATE") or 0.0),
        sample_rate=1.0,
        # send_default_pii stays at its default (off): no IPs, cookies or user fields.
        include_local_variables=False,
        max_request_body_size="never",
        integrations=[FlaskIntegration(), SqlalchemyIntegration(), RedisIntegration(),
                      LoggingIntegration(level=logging.INFO, event_level=logging.ERROR)],
        event_scrubber=EventScrubber(
            denylist=DEFAULT_DENYLIST + ["email", "phone", "client_secret", "refresh_token",
                                         "access_token"],
            recursive=True),
        before_send=before_send,
        before_send_transaction=before_send,
        before_breadcrumb=before_breadcrumb,
        **options,
    )
    app.extensions["jifen.capture_exception"] = capture
