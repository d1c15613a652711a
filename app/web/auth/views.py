"""Sign-in, sign-out, the password change and the language choice.

Failed sign-ins are audited by the service and limited per account and per
address (lockout.py).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.services import sessions
from app.services import staff as staff_service
from app.services.errors import ValidationFailed
from app.web.auth import bp, lockout
from app.web.auth import session as portal_session
from app.web.auth.forms import LanguageForm, LoginForm, PasswordForm
from app.web.context import actor
from app.web.render import apply_errors


def safe_next(target: str | None) -> str | None:
    """Only a path on this host: never a redirect to somewhere else."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@lockout.guard
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = staff_service.authenticate(form.email.data, form.password.data, actor())
        if user is not None:
            login_user(user)
            portal_session.start(user.session_version)
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
        error = _("Wrong email or password.")
    status = 401 if error else 422 if form.errors else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # Every session of the account ends, this one and any cookie copied from it.
    sessions.end_all(current_user.id)
    logout_user()
    portal_session.end()
    flash(_("You have signed out."))
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            version = sessions.change_password(
                current_user.id, actor(), current=form.current_password.data,
                new=form.new_password.data, confirm=form.confirm_password.data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            # Every other session has ended; this one carries on under the new version.
            current_user.session_version = version
            portal_session.start(current_user.session_version)
            flash(_("Your password has been changed. Other sessions have been signed out."))
            return redirect(url_for("home.index"))
    status = 422 if form.errors else 200
    return render_template("auth/password.html", form=form), status


@bp.route("/language", methods=["POST"])
@login_required
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        staff_service.set_locale(current_user.id, form.locale.data)
    return redirect(safe_next(form.next.data) or url_for("home.index"))
