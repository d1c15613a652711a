"""One JSON line per request; no secret in any log line."""
from __future__ import annotations

import io
import json
import logging
import re
from types import SimpleNamespace

import pytest
from flask import g

from app.extensions import csrf
from app.logging_setup import JsonLines
from app.ops.request_log import RedactSecrets


@pytest.fixture
def log_lines():
    """The jifen loggers' output, formatted as in production, at INFO."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    handler.addFilter(RedactSecrets())
    root = logging.getLogger("jifen")
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_it_logs_one_json_line_per_request(app, log_lines):
    @app.post("/api/v1/points/profiles/<user_id>/things/")
    @csrf.exempt
    def things(user_id):
        g.api_principal = SimpleNamespace(client_pk=9, tenant_id=3)
        return {"ok": True}, 201

    app.test_client().post("/api/v1/points/profiles/alice/things/?access_token=tok-SECRET-1",
                           json={"password": "pw-SECRET-2"},
                           headers={"X-Request-ID": "req-42", "X-Forwarded-For": "198.51.100.1",
                                    "Authorization": "Bearer tok-SECRET-3"})
    lines = [line for line in log_lines() if line["name"] == "jifen.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["method"] == "POST"
    assert line["path"] == "/api/v1/points/profiles/alice/things/"
    assert line["endpoint"] == "/api/v1/points/profiles/<user_id>/things/"
    assert line["status"] == 201
    assert line["duration_ms"] >= 0
    assert line["request_id"] == "req-42"
    assert line["tenant"] == "3"
    assert line["actor"] == "api_client:9"
    assert line["ip"] == "127.0.0.1"  # X-Forwarded-For is not trusted without PROXY_FIX_X_FOR
    assert "SECRET" not in json.dumps(log_lines())


def test_it_logs_the_integration_of_a_real_api_request(tenant, credentials, full, log_lines):
    """The API's own bearer-token check is what names the client and tenant."""
    full.get("/api/v1/points/user-levels/")
    line = [x for x in log_lines() if x["name"] == "jifen.request"][-1]
    assert line["status"] == 200
    assert line["actor"] == f"api_client:{credentials.pk}"
    assert line["tenant"] == str(tenant.id)


def test_it_times_requests_that_a_hook_refused(app, log_lines):
    app.test_client().post("/login", data={})  # refused by CSRF before any view
    line = [x for x in log_lines() if x["name"] == "jifen.request"][0]
    assert line["status"] == 400
    assert line["duration_ms"] is not None


def test_it_logs_the_signed_in_staff_by_id_only(app, tenant, make_staff, log_lines):
    from tests.conftest import PASSWORD

    user = make_staff(tenant, "owner", email="owner@acme.test")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0] \
        if 'name="csrf_token" type="hidden" value="' in page else \
        page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"email": "owner@acme.test", "password": PASSWORD,
                                "csrf_token": token})
    client.get(f"/t/{tenant.slug}/")
    line = [x for x in log_lines() if x["name"] == "jifen.request"][-1]
    assert line["actor"] == f"staff:{user.id}"
    assert line["tenant"] == "acme"
    assert "owner@acme.test" not in json.dumps([x for x in log_lines()
                                                if x["name"] == "jifen.request"])
    assert PASSWORD not in json.dumps(log_lines())


def test_it_redacts_secrets_whoever_logs_them(log_lines):
    log = logging.getLogger("jifen.somewhere")
    log.info("calling partner with Authorization: Bearer abc.def.ghi and password=hunter2",
             extra={"client_secret": "cs-123", "refresh_token": "rt-456", "user": "ok"})
    log.warning("retry %s", "token=zzz-999")
    text = json.dumps(log_lines())
    for secret in ("abc.def.ghi", "hunter2", "cs-123", "rt-456", "zzz-999"):
        assert secret not in text
    assert '"user": "ok"' in text


def test_a_line_is_one_json_object_with_its_fields_time_and_traceback(log_lines):
    from datetime import datetime, UTC

    log = logging.getLogger("jifen.somewhere")
    log.info("plain 咖啡 \"q\"", extra={"count": 3, "at": datetime(2026, 12, 1, 6, 5, tzinfo=UTC),
                                      "nothing": None})
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError:
        log.exception("it broke", extra={"error_id": "ERR_1"})
    plain, broken = [line for line in log_lines() if line["name"] == "jifen.somewhere"]
    assert plain["message"] == "plain 咖啡 \"q\"" and plain["level"] == "INFO"
    assert plain["count"] == 3 and plain["nothing"] is None
    assert plain["at"] == "2026-12-01T06:05:00+00:00"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", plain["time"])
    assert broken["level"] == "ERROR" and broken["error_id"] == "ERR_1"
    assert broken["exc_info"].startswith("Traceback") and "ZeroDivisionError" in broken["exc_info"]
