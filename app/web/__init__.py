"""The portal's HTML blueprints, and what every page of theirs shares."""
from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf

from app.extensions import login_manager
from app.services import contact, ledger
from app.web import fields, formatting, labels, urls
from app.web.auth import session as portal_session


def register(app: Flask) -> None:
    from app import request_context
    from app.services import staff
    from app.web.admin import bp as admin_bp
    from app.web.audit import bp as audit_bp
    from app.web.auth import bp as auth_bp
    from app.web.batch import bp as batch_bp
    from app.web.levels import bp as levels_bp
    from app.web.dashboard import bp as dashboard_bp
    from app.web.home import bp as home_bp
    from app.web.members import bp as members_bp
    from app.web.programme import bp as programme_bp
    from app.web.vip import bp as vip_bp

    app.session_interface = portal_session.PortalOnlySessions()

    request_context.register(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the sign-in page says what it needs to
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(user_id: str) -> Any:
        user = staff.load_signed_in(user_id)
        # Signed out, password changed, access removed, idle or too old: this
        # cookie no longer signs anyone in.
        return user if user is not None and portal_session.is_current(user.session_version) else None

    for blueprint in (auth_bp, home_bp, dashboard_bp, members_bp, programme_bp, vip_bp,
                      levels_bp, admin_bp, audit_bp, batch_bp):
        app.register_blueprint(blueprint)
    register_templating(app)
    register_responses(app)


def register_templating(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.add_template_filter(formatting.num, "num")
    app.add_template_filter(formatting.signed, "signed")
    app.add_template_filter(formatting.dt, "dt")
    app.add_template_filter(formatting.day, "day")
    app.add_template_filter(contact.mask_email, "mask_email")
    app.add_template_filter(contact.mask_phone, "mask_phone")
    app.add_template_global(urls.url_for_each, "url_for_each")
    app.add_template_global(fields.fields_once, "fields_once")
    token_name = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")

    @app.template_global("csrf_token")
    def _csrf_token() -> str:
        # Flask-WTF's own (CSRFProtect installs it) keeps the request's token in
        # g under the field name too, but first reads the config and the secret
        # key through the app proxy, and a page calls it several times.
        return g.get(token_name) or generate_csrf()

    expects_slug: dict[str, bool] = {}  # by endpoint; the URL map is fixed once built

    @app.url_defaults
    def _tenant_slug(endpoint: str, values: dict[str, Any]) -> None:
        # Inside a tenant's page, url_for() fills the slug in by itself.
        tenancy = g.get("tenancy")
        if tenancy is None or "slug" in values:
            return
        expects = expects_slug.get(endpoint)
        if expects is None:
            expects = expects_slug[endpoint] = app.url_map.is_endpoint_expecting(endpoint, "slug")
        if expects:
            values["slug"] = tenancy.slug

    @app.context_processor
    def _portal_context() -> dict[str, Any]:
        tenancy = g.get("tenancy")
        return {
            "tc": tenancy,
            "can": (lambda p: tenancy is not None and tenancy.can(p)),
            "my_roles": _my_roles,
            "reversible": ledger.is_reversible_kind,
            "LANGUAGES": labels.LANGUAGES,
            "get_locale": get_locale,
            **formatting.page_context(),  # _, the *_label lookups, the page's locale
        }


def _my_roles() -> list:
    """The signed-in user's tenants, for the header's switcher (one query, on demand)."""
    from app.services import staff

    if not current_user.is_authenticated:
        return []
    if "my_roles" not in g:
        g.my_roles = staff.roles_of(current_user.id)
    return g.my_roles


def register_responses(app: Flask) -> None:
    from app.envelope import error as envelope_error
    from app.envelope import wants_envelope
    from app.web.errors import render_error_page

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        if wants_envelope():
            return envelope_error("BAD_REQUEST", {"reason": exc.description}, status=400)
        return render_error_page(400, exc, csrf=True)

    @app.after_request
    def _portal_headers(response):
        if wants_envelope():
            return response
        # A partial and its full page share a URL: caches must keep them apart.
        response.vary.add("HX-Request")
        if current_user and current_user.is_authenticated and \
                response.mimetype in ("text/html", "text/csv"):
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response
