"""The portal's own error pages (400, 403, 404, 429, 500, 503), in its layout,
each with the request id to quote to support (the id the logs, the audit log and
Sentry carry; it never needs the database).

An htmx request gets only the message: the page's live region shows it where the
person is (static/js/app.js), instead of a whole page swapped into a fragment.
Never a stack trace.
"""
from __future__ import annotations

from flask import g, render_template
from flask_babel import gettext as _

from app.extensions import login_manager
from app.request_context import request_id

from app.web.render import is_partial

TITLES = {
    400: (lambda: _("Bad request"), lambda: _("The request could not be understood.")),
    403: (lambda: _("Not allowed"), lambda: _("You do not have permission to see this page.")),
    404: (lambda: _("Not found"), lambda: _("There is nothing at this address.")),
    405: (lambda: _("Not allowed"), lambda: _("This page does not accept that kind of request.")),
    413: (lambda: _("Too large"), lambda: _("What you sent is too large.")),
    429: (lambda: _("Slow down"), lambda: _("Too many attempts. Please wait a little and try again.")),
    500: (lambda: _("Something went wrong"),
          lambda: _("An unexpected error occurred. It has been logged; please try again.")),
    503: (lambda: _("Temporarily unavailable"),
          lambda: _("The service is briefly unavailable. Please try again in a few minutes.")),
}


def render_error_page(status: int, exc: BaseException | None = None, csrf: bool = False):
    title, message = TITLES.get(status, TITLES[500 if status >= 500 else 400])
    text = _("This form has expired or was not sent from this site. Reload the page and try "
             "again.") if csrf else message()
    headers = {}
    if status == 429:
        retry = getattr(getattr(exc, "limit", None), "limit", None)
        seconds = retry.get_expiry() if retry is not None else 60
        headers["Retry-After"] = str(seconds)
    if status == 503:
        headers["Retry-After"] = "30"
    template = "errors/_message.html" if is_partial() else "errors/error.html"
    return render_template(template, status=status, title=title(), message=text,
                           request_id=request_id()), status, headers


def render_unavailable_page(exc: BaseException):
    """The 503 page while the database is down, rendered without it: the layout
    would otherwise load the signed-in person, their programmes and the tenant
    (a rollback has expired it) from the database, fail again inside the error
    handler, and leave only Werkzeug's bare "Internal Server Error". On this
    page alone the person shows as signed out; their session is untouched."""
    login_manager._update_request_context_with_user()  # the anonymous user, loaded from nothing
    for name in ("tenancy", "my_roles"):
        g.pop(name, None)
    return render_error_page(503, exc)
