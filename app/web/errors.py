"""The portal's own error pages (403, 404, 429, 500, 503), in its layout."""
from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _

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


def render_error_page(status: int, exc: BaseException | None = None):
    title, message = TITLES.get(status, TITLES[500 if status >= 500 else 400])
    return render_template("errors/error.html", status=status, title=title(),
                           message=message()), status
