from __future__ import annotations

from flask import current_app, redirect, render_template, send_from_directory, url_for
from flask_login import current_user, login_required

from app.services import staff as staff_service
from app.web.home import bp


@bp.route("/")
@login_required
def index():
    """The tenant picker; someone with one tenant goes straight to it."""
    roles = staff_service.roles_of(current_user.id)
    if len(roles) == 1:
        return redirect(url_for("dashboard.index", slug=roles[0].tenant_slug))
    return render_template("home/index.html", roles=roles)


@bp.route("/favicon.ico")
def favicon():
    """Where browsers look when a response names no icon (a JSON page, a download)."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)
