"""The confirmation step of an irreversible action: a GET page that says exactly
what will happen, with a POST form (CSRF-protected) that does it. It works
without JavaScript; the action's view decides what to say and does the work."""
from __future__ import annotations

from flask import render_template

from app.web.forms import Form


class ConfirmForm(Form):
    """Nothing but the CSRF token: the page itself is the question."""


def confirmation(*, title: str, subject: str, consequences: list[str], button: str,
                 cancel_url: str, refusal: str | None = None, status: int = 200):
    """`consequences` are whole sentences; a `refusal` replaces the button with
    the reason the action cannot be done."""
    return render_template("confirm.html", title=title, subject=subject,
                           consequences=consequences, button=button, cancel_url=cancel_url,
                           refusal=refusal, form=ConfirmForm()), status
