"""Transport and browser hardening (seed 001, task 4).

Applied as WSGI middleware rather than Flask hooks so that every response gets
the headers — pages, htmx partials, JSON, error pages, static files, and even
the bare 500 Flask sends when an error handler itself fails."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.utils import redirect
from werkzeug.wsgi import get_current_url

# No 'unsafe-inline' / 'unsafe-eval': templates carry no inline scripts, styles or
# hx-on attributes, and htmx is served from static/ with its inline indicator
# styles and eval turned off.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

STATIC_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

# Load balancers and Prometheus usually reach the app over plain HTTP inside the
# network; redirecting them would only break the probes.
HTTPS_EXEMPT_PREFIXES = ("/core/health/", "/metrics")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SecurityMiddleware:
    def __init__(self, app: WSGIApp, *, force_https: bool, hsts_seconds: int) -> None:
        self.app = app
        self.force_https = force_https
        self.hsts = f"max-age={hsts_seconds}; includeSubDomains; preload" if hsts_seconds else None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        secure = environ.get("wsgi.url_scheme") == "https"
        path = environ.get("PATH_INFO", "")
        if self.force_https and not secure and not path.startswith(HTTPS_EXEMPT_PREFIXES):
            url = "https://" + get_current_url(environ).split("://", 1)[1]
            # 308 keeps the method and body of a POST.
            return redirect(url, code=308)(environ, self._with_headers(start_response, False))
        return self.app(environ, self._with_headers(start_response, secure))

    def _with_headers(self, start_response: Callable[..., Any], secure: bool) -> Callable[..., Any]:
        def wrapped(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            for name, value in STATIC_HEADERS.items():
                if name.lower() not in present:
                    headers.append((name, value))
            if self.force_https and secure and self.hsts and \
                    "strict-transport-security" not in present:
                headers.append(("Strict-Transport-Security", self.hsts))
            return start_response(status, headers, exc_info)
        return wrapped


def register(app: Flask) -> None:
    inner = SecurityMiddleware(app.wsgi_app, force_https=bool(app.config.get("FORCE_HTTPS")),
                               hsts_seconds=int(app.config.get("HSTS_SECONDS", 31536000)))
    counts = {h: int(app.config.get(f"PROXY_FIX_X_{h.upper()}", 0))
              for h in ("for", "proto", "host", "port", "prefix")}
    # ProxyFix goes outside, so the scheme and client address the middleware and
    # the app see are the ones the trusted proxies reported.
    app.wsgi_app = ProxyFix(inner, x_for=counts["for"], x_proto=counts["proto"],  # type: ignore[method-assign]
                            x_host=counts["host"], x_port=counts["port"],
                            x_prefix=counts["prefix"]) if any(counts.values()) else inner
