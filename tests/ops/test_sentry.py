"""Sentry with a transport that keeps events in memory: no network."""
from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest
from flask import g
from sentry_sdk.transport import Transport

from app.extensions import csrf


class CapturingTransport(Transport):
    events: list[dict] = []

    def capture_envelope(self, envelope) -> None:
        for item in envelope.items:
            if item.type in ("event", "transaction"):
                CapturingTransport.events.append(json.loads(item.payload.get_bytes()))


@pytest.fixture
def sentry_app(make_app):
    import sentry_sdk

    CapturingTransport.events = []
    application = make_app(SENTRY_DSN="https://public@sentry.invalid/1",
                           SENTRY_TRANSPORT=CapturingTransport, SENTRY_RELEASE="jifen@1.2.3",
                           SENTRY_ENVIRONMENT="staging",
                           SUPPORT_CONTACT="support@jifen.example",
                           STATUS_PAGE_URL="https://status.jifen.example")

    @application.post("/api/v1/boom/")
    @csrf.exempt
    def boom():
        g.api_principal = SimpleNamespace(client_pk=42, tenant_id=7)
        password = "hunter2-secret"  # a local variable Sentry must not capture  # noqa: F841
        raise RuntimeError("failed for alice@example.com, phone +86 138 0013 8000, "
                           "token=abcDEF123456")

    @application.get("/page-boom")
    def page_boom():
        raise RuntimeError("page failure for bob@example.com")

    yield application
    sentry_sdk.flush()
    sentry_sdk.init()  # back to a disabled client for the rest of the suite


def flushed() -> list[dict]:
    import sentry_sdk

    sentry_sdk.flush()
    return CapturingTransport.events


def test_the_500_error_id_is_the_sentry_event_id(sentry_app):
    response = sentry_app.test_client().post(
        "/api/v1/boom/", json={"email": "carol@example.com", "password": "pw-123456"},
        headers={"Authorization": "Bearer sk_live_abcdef123456", "Cookie": "session=s3cr3t",
                 "X-Request-ID": "req-sentry-1"})
    assert response.status_code == 500
    error = response.get_json()["error"]
    events = flushed()
    assert len(events) == 1
    event = events[0]
    assert error["details"]["error_id"] == event["event_id"]
    assert error["details"]["support_contact"] == "support@jifen.example"
    assert error["details"]["status_page"] == "https://status.jifen.example"
    assert "Traceback" not in response.get_data(as_text=True)
    assert event["release"] == "jifen@1.2.3"
    assert event["environment"] == "staging"
    assert event["user"] == {"id": "api_client:42"}
    assert event["tags"]["request_id"] == "req-sentry-1"
    assert event["tags"]["tenant"] == "7"


def test_events_carry_no_personal_data_or_secrets(sentry_app):
    sentry_app.test_client().post(
        "/api/v1/boom/", json={"email": "carol@example.com", "password": "pw-123456"},
        headers={"Authorization": "Bearer sk_live_abcdef123456", "Cookie": "session=s3cr3t"})
    text = json.dumps(flushed())
    for leaked in ("alice@example.com", "carol@example.com", "138 0013 8000", "abcDEF123456",
                   "sk_live_abcdef123456", "s3cr3t", "hunter2-secret", "pw-123456"):
        assert leaked not in text, leaked
    assert "RuntimeError" in text  # the error itself is still there to debug
    assert "[email]" in text


def test_portal_500s_are_reported_too(sentry_app):
    response = sentry_app.test_client().get("/page-boom")
    assert response.status_code == 500
    events = flushed()
    assert len(events) == 1
    assert "bob@example.com" not in json.dumps(events)
    assert events[0]["user"] == {"id": "anonymous"}


def test_error_logs_become_scrubbed_events(sentry_app):
    with sentry_app.app_context():
        logging.getLogger("jifen.test").error("could not mail dave@example.com: password=letmein99")
    events = flushed()
    assert len(events) == 1
    text = json.dumps(events[0])
    assert "dave@example.com" not in text and "letmein99" not in text


def test_sentry_is_off_without_a_dsn(app):
    assert "jifen.capture_exception" not in app.extensions

    @app.get("/api/v1/boom2/")
    def boom2():
        raise RuntimeError("x")

    error = app.test_client().get("/api/v1/boom2/").get_json()["error"]
    assert error["details"]["error_id"].startswith("ERR_")
    assert "support_contact" not in error["details"]
