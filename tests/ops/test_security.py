"""Security headers on every kind of response, HTTPS in production, cookie flags."""
from __future__ import annotations

import pytest
from flask import render_template_string

from app.config import ProductionConfig
from app.ops.security import CONTENT_SECURITY_POLICY

HTTP = "http://localhost/"
EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}


@pytest.fixture
def boom_app(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("page failure")

    @app.get("/api/boom")
    def api_boom():
        raise RuntimeError("api failure")

    @app.get("/partial")
    def partial():
        return render_template_string("<li>{{ n }}</li>", n=1)
    return app


@pytest.mark.parametrize("path, headers, status, kind", [
    ("/login", {}, 200, "text/html"),                            # page
    ("/partial", {"HX-Request": "true"}, 200, "text/html"),      # htmx partial
    ("/core/health/", {}, 200, "application/json"),              # JSON
    ("/metrics", {}, 200, "text/plain"),                          # metrics
    ("/api/nowhere", {}, 404, "application/json"),               # error envelope
    ("/nowhere", {}, 404, "text/html"),                          # error page
    ("/boom", {}, 500, "text/html"),                             # 500 page
    ("/api/boom", {}, 500, "application/json"),                  # 500 envelope
    ("/static/css/app.css", {}, 200, "text/css"),                # static file
])
def test_it_sets_security_headers_on_every_kind_of_response(boom_app, path, headers, status, kind):
    response = boom_app.test_client().get(path, headers=headers)
    assert response.status_code == status
    assert response.mimetype == kind
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    assert response.headers.getlist("X-Frame-Options") == ["DENY"]  # never twice
    assert "Strict-Transport-Security" not in response.headers  # not production


def test_it_has_no_unsafe_sources_in_the_csp():
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


@pytest.fixture
def production(monkeypatch, database_url, make_app):
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", "zcHrp8KwAtJ3F9Nq3n1wQp1Y3LrKXvmxPZKqJp2yW0U=")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PROXY_FIX_X_FOR", "1")
    monkeypatch.setenv("PROXY_FIX_X_PROTO", "1")
    return make_app(ProductionConfig())


def test_it_redirects_plain_http_to_https_in_production(production):
    # Flask's test client follows PREFERRED_URL_SCHEME (https in production): ask for http.
    response = production.test_client().post("/login?next=/t/acme/", data={"a": "b"},
                                             base_url=HTTP)
    assert response.status_code == 308  # keeps the method and body
    assert response.headers["Location"] == "https://localhost/login?next=/t/acme/"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # only sent over HTTPS


def test_it_sends_hsts_behind_a_tls_proxy(production):
    client = production.test_client()
    response = client.get("/login", base_url=HTTP, headers={"X-Forwarded-Proto": "https",
                                                            "X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == \
        "max-age=31536000; includeSubDomains; preload"


def test_it_lets_probes_reach_health_and_metrics_over_http(production):
    client = production.test_client()
    assert client.get("/core/health/live/", base_url=HTTP).status_code == 200
    assert client.get("/metrics", base_url=HTTP).status_code == 200


def test_it_trusts_the_proxy_for_the_client_address(production):
    seen = {}

    @production.get("/whoami")
    def whoami():
        from flask import request
        seen["ip"], seen["secure"] = request.remote_addr, request.is_secure
        return "ok"

    production.test_client().get("/whoami", base_url=HTTP, headers={"X-Forwarded-Proto": "https",
                                                     "X-Forwarded-For": "203.0.113.9"})
    assert seen == {"ip": "203.0.113.9", "secure": True}


def test_it_ignores_forwarded_headers_without_proxyfix_settings(app):
    seen = {}

    @app.get("/whoami")
    def whoami():
        from flask import request
        seen["ip"] = request.remote_addr
        return "ok"

    app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.9"})
    assert seen["ip"] == "127.0.0.1"  # a client cannot spoof its address


def test_it_marks_cookies_secure_in_production(production):
    response = production.test_client().get("/login", base_url=HTTP,
                                            headers={"X-Forwarded-Proto": "https"})
    cookies = response.headers.getlist("Set-Cookie")
    session = [c for c in cookies if c.startswith("session=")]
    assert session, cookies
    flags = {part.strip().lower() for part in session[0].split(";")[1:]}
    assert "secure" in flags
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert production.config["REMEMBER_COOKIE_SECURE"] is True
    assert production.config["REMEMBER_COOKIE_HTTPONLY"] is True


def test_the_development_config_does_not_force_https(app):
    assert app.config["FORCE_HTTPS"] is False
    assert app.test_client().get("/login").status_code == 200

