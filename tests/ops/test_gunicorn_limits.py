"""What real gunicorn lets through to the app (which answers with its envelope)
and what it still answers itself (README: "What gunicorn answers itself")."""
from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from tests.ops.test_gunicorn import gunicorn_server  # noqa: F401 - the fixture


def _send(base: str, path: str, headers: dict[str, str] | None = None):
    address = urlsplit(base)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=20)
    try:
        conn.request("GET", path, headers={"Connection": "close", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


def _envelope(status: int, content_type: str, body: bytes, expected: int, code: str) -> None:
    assert (status, content_type) == (expected, "application/json"), (status, body[:300])
    assert json.loads(body)["error"]["code"] == code


def test_the_app_answers_long_lines_and_headers_with_its_envelope(gunicorn_server):  # noqa: F811
    base = gunicorn_server[0]
    # A 7,000-character query: over gunicorn's default line limit (4094), under ours.
    _envelope(*_send(base, "/api/v1/points/profiles/?q=" + "x" * 7000), 401,
              "AUTHENTICATION_REQUIRED")
    _envelope(*_send(base, "/api/v1/points/profiles/" + "u" * 7000 + "/"), 401,
              "AUTHENTICATION_REQUIRED")
    # A 12 KB token: over gunicorn's default header limit (8190), under ours.
    _envelope(*_send(base, "/api/v1/points/profiles/",
                     {"Authorization": "Bearer " + "t" * 12_000}), 401, "INVALID_TOKEN")


def test_beyond_the_limits_gunicorn_answers_itself(gunicorn_server):  # noqa: F811
    base = gunicorn_server[0]
    status, content_type, _ = _send(base, "/api/v1/points/profiles/?q=" + "x" * 9000)
    assert (status, content_type) == (414, "text/html")
    status, content_type, _ = _send(base, "/api/v1/points/profiles/",
                                    {"Authorization": "Bearer " + "t" * 20_000})
    assert (status, content_type) == (431, "text/html")
