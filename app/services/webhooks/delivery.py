"""Sending the outbox: signed (Standard Webhooks), at least once, one message at
a time per endpoint.

A delivery run leases one endpoint (a short transaction: its row is locked with
SKIP LOCKED on PostgreSQL, and the lease columns say who sends to it until
when), then sends that endpoint's due messages oldest first, recording each
result in its own short transaction. No transaction is open during an HTTP
call. Two consumers never send to one endpoint at once; a consumer that dies
mid-send leaves a lease that runs out, and the message, still pending, is sent
again with the same `webhook-id` (receivers deduplicate on it).
"""
from __future__ import annotations

import http.client
import logging
import secrets
import socket
import ssl
from collections.abc import Callable
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, func, or_, select, update
from standardwebhooks import Webhook

from app.extensions import db
from app.models import WebhookEndpoint, WebhookMessage
from app.services import clock, crypto
from app.services.uow import transactional
from app.services.webhooks import urls

log = logging.getLogger("jifen.webhooks")

# After the 1st, 2nd, … failed attempt; after the last, the message is failed.
RETRY_DELAYS = (timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2),
                timedelta(minutes=10), timedelta(hours=1), timedelta(hours=6),
                timedelta(hours=24))
EXCERPT_CHARS = 1000
USER_AGENT = "Jifen-Webhooks/1"

_endpoints, _messages = WebhookEndpoint.__table__, WebhookMessage.__table__


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    latency_ms: int
    excerpt: str | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class RunReport:
    delivered: int = 0
    failed_attempts: int = 0


def _lease() -> timedelta:
    """Longer than one attempt (WEBHOOK_TIMEOUT_SECONDS); renewed before each."""
    return timedelta(seconds=current_app.config.get("WEBHOOK_LEASE_SECONDS", 60.0))


def _due(now: datetime):
    return and_(_messages.c.status == "pending", _messages.c.next_attempt_at <= now)


def _live_endpoint():
    return and_(_endpoints.c.is_active.is_(True), _endpoints.c.deleted_at.is_(None))


def due_endpoints(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Endpoints with a message due and nobody sending to them."""
    now = now or clock.now()
    rows = db.session.execute(
        select(_endpoints.c.id).where(
            _live_endpoint(),
            or_(_endpoints.c.leased_until.is_(None), _endpoints.c.leased_until < now),
            exists().where(_messages.c.endpoint_id == _endpoints.c.id, _due(now)))
        .order_by(_endpoints.c.id).limit(limit)
    ).scalars().all()
    db.session.commit()  # end the read: no transaction stays open in the worker
    return list(rows)


@transactional
def _claim(endpoint_id: int, token: str) -> tuple[str, str] | None:
    """Lease the endpoint for this run: its url and secret, or None when another
    run holds it (or it is gone)."""
    now = clock.now()
    row = db.session.execute(
        select(_endpoints.c.url, _endpoints.c.secret_encrypted).where(
            _endpoints.c.id == endpoint_id, _live_endpoint(),
            or_(_endpoints.c.leased_until.is_(None), _endpoints.c.leased_until < now))
        .with_for_update(skip_locked=True)
    ).first()
    if row is None:
        return None
    db.session.execute(update(_endpoints).where(_endpoints.c.id == endpoint_id)
                       .values(leased_until=now + _lease(), lease_token=token))
    return row.url, crypto.decrypt(row.secret_encrypted) or ""


@transactional
def _step(endpoint_id: int, token: str, previous: tuple[int, Attempt] | None,
          fetch: bool) -> tuple[datetime | None, tuple[int, str, str] | None]:
    """One transaction between two sends: record the previous attempt (its retry
    time, if any), renew the lease and take the endpoint's oldest due message;
    no message when nothing is due or the lease was lost (it ran out and another
    run took over). One commit per message instead of two."""
    retry_at = _record(*previous) if previous is not None else None
    if not fetch:
        return retry_at, None
    now = clock.now()
    renewed = db.session.execute(
        update(_endpoints).where(_endpoints.c.id == endpoint_id,
                                 _endpoints.c.lease_token == token, _live_endpoint())
        .values(leased_until=now + _lease())
    ).rowcount
    if renewed != 1:
        return retry_at, None
    row = db.session.execute(
        select(_messages.c.id, _messages.c.msg_id, _messages.c.payload)
        .where(_messages.c.endpoint_id == endpoint_id, _due(now))
        .order_by(_messages.c.next_attempt_at, _messages.c.id).limit(1)
    ).first()
    return retry_at, ((row.id, row.msg_id, row.payload) if row is not None else None)


@transactional
def _release(endpoint_id: int, token: str) -> None:
    db.session.execute(update(_endpoints).where(_endpoints.c.id == endpoint_id,
                                                _endpoints.c.lease_token == token)
                       .values(leased_until=None, lease_token=None))


def _record(message_id: int, attempt: Attempt) -> datetime | None:
    """Store an attempt's outcome; the time of the next attempt, if any."""
    now = clock.now()
    attempts = db.session.execute(
        select(_messages.c.attempts).where(_messages.c.id == message_id).with_for_update()
    ).scalar_one() + 1
    values = {"attempts": attempts, "last_attempt_at": now,
              "last_status_code": attempt.status_code, "last_latency_ms": attempt.latency_ms,
              "last_response": attempt.excerpt, "last_error": attempt.error}
    retry_at = None
    if attempt.delivered:
        values.update(status="delivered", delivered_at=now, next_attempt_at=None)
    elif attempts > len(RETRY_DELAYS):
        values.update(status="failed", next_attempt_at=None)
    else:
        retry_at = now + RETRY_DELAYS[attempts - 1]
        values.update(next_attempt_at=retry_at)
    db.session.execute(update(_messages).where(_messages.c.id == message_id).values(**values))
    return retry_at


def deliver_endpoint(endpoint_id: int, max_messages: int = 200,
                     observe: Callable[[str, float], None] | None = None,
                     ) -> tuple[RunReport, datetime | None]:
    """Send the endpoint's due messages, one at a time, unless another run holds
    it. Stops at the first failure: a receiver that is down costs one timeout
    per run, not one per message. Returns what happened and when a retry is due.
    `observe(result, seconds)` hears of each attempt (the worker's metrics)."""
    token = secrets.token_hex(16)
    claimed = _claim(endpoint_id, token)
    if claimed is None:
        return RunReport(), None
    url, secret = claimed
    delivered = failed = sent = 0
    retry_at = None
    previous: tuple[int, str, Attempt] | None = None
    try:
        while True:
            retry_at, message = _step(endpoint_id, token,
                                      previous and (previous[0], previous[2]),
                                      fetch=sent < max_messages)
            if previous is not None:
                _row_id, msg_id, attempt = previous
                result = "delivered" if attempt.delivered else ("retry" if retry_at else "failed")
                if observe is not None:
                    observe(result, attempt.latency_ms / 1000)
                if not attempt.delivered:
                    failed += 1
                    log.info("webhook_attempt_failed", extra={
                        "endpoint_id": endpoint_id, "webhook_id": msg_id,
                        "status_code": attempt.status_code, "error": attempt.error})
                    break
                delivered += 1
            if message is None:
                break
            row_id, msg_id, payload = message
            previous = (row_id, msg_id, send(url, secret, msg_id, payload))
            sent += 1
    finally:
        _release(endpoint_id, token)
    return RunReport(delivered, failed), retry_at


def signed_headers(secret: str, msg_id: str, payload: str) -> dict[str, str]:
    # The signing time is the wall clock (receivers check it against theirs),
    # not the service clock the tests move.
    sent_at = datetime.now(UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, sent_at, payload),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, not to whatever the name
    resolves to a moment later."""

    def __init__(self, target: urls.Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: urls.Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout,
                         context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def send(url: str, secret: str, msg_id: str, payload: str,
         timeout: float | None = None) -> Attempt:
    """One POST. Redirects are not followed (http.client never does): a 3xx is
    a failure like any other non-2xx."""
    strict = current_app.config.get("ENV_NAME") == "production"
    timeout = timeout or current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 10.0)
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        target = urls.resolve(url, strict=strict)
    except urls.UnsafeURL as exc:
        return Attempt(None, elapsed(), None, f"refused: {exc}")
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout)
    try:
        headers = signed_headers(secret, msg_id, payload)
        connection.request("POST", target.path, body=payload.encode(), headers=headers)
        response = connection.getresponse()
        excerpt = response.read(EXCERPT_CHARS * 4).decode("utf-8", "replace")[:EXCERPT_CHARS]
        return Attempt(response.status, elapsed(), excerpt, None)
    except (OSError, http.client.HTTPException) as exc:
        reason = "timeout" if isinstance(exc, (TimeoutError, socket.timeout)) else type(exc).__name__
        return Attempt(None, elapsed(), None, reason)
    finally:
        connection.close()


@transactional
def send_again(tenant_id: int, endpoint_id: int, msg_id: str) -> bool:
    """Queue a failed message once more (the portal's "Send again"): same id,
    same body, a fresh set of attempts."""
    result = db.session.execute(
        update(_messages).where(_messages.c.tenant_id == tenant_id,
                                _messages.c.endpoint_id == endpoint_id,
                                _messages.c.msg_id == msg_id, _messages.c.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=clock.now())
    )
    return result.rowcount == 1


def queue_stats(now: datetime | None = None) -> tuple[int, float | None]:
    """(messages waiting to be sent now, seconds the longest-waiting one has been
    due): the worker's backlog, not the receivers' retry schedules."""
    now = now or clock.now()
    depth, oldest = db.session.execute(
        select(func.count(), func.min(_messages.c.next_attempt_at))
        .select_from(_messages.join(_endpoints, _endpoints.c.id == _messages.c.endpoint_id))
        .where(_due(now), _live_endpoint())
    ).one()
    if oldest is None:
        return int(depth), None
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(depth), max(0.0, (now - oldest).total_seconds())


def failing_endpoints(now: datetime | None = None,
                      window: timedelta = timedelta(minutes=10)) -> int:
    """Live endpoints with attempts in the window and not one of them delivered
    (an alert fires when this stays above 0 for an hour)."""
    since = (now or clock.now()) - window
    m = _messages
    rows = db.session.execute(
        select(m.c.endpoint_id)
        .join(_endpoints, _endpoints.c.id == m.c.endpoint_id)
        .where(m.c.last_attempt_at >= since, _live_endpoint())
        .group_by(m.c.endpoint_id)
        .having(func.count().filter(m.c.status == "delivered") == 0)
    ).all()
    return len(rows)
