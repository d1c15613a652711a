from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.services import staff as staff_service
from app.services import tenants
from app.web.home import bp


@bp.route("/")
@login_required
def index():
    roles = staff_service.roles_of(current_user.id)
    if len(roles) == 1:
        return redirect(url_for("home.tenant_home", slug=roles[0].tenant_slug))
    return render_template("home/index.html", roles=roles)


@bp.route("/t/<slug>/")
@login_required
def tenant_home(slug: str):
    tenant = tenants.get_by_slug(slug)
    role = staff_service.role_in(current_user.id, tenant.id) if tenant else None
    if role is None:
        abort(404)
    return render_template("home/tenant.html", tenant=tenant, role=role)
