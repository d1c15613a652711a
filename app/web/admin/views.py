"""Tenant settings (can_manage_points); staff and API clients (owner) live beside."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.services import tenants
from app.services.permissions import MANAGE
from app.web.admin import bp
from app.web.admin.forms import SettingsForm
from app.web.context import actor
from app.web.render import attempt
from app.web.tenancy import TenantContext, tenant_view


@bp.route("/t/<slug>/settings", methods=["GET", "POST"])
@tenant_view(MANAGE)
def settings(tc: TenantContext):
    form = SettingsForm(obj=tc.tenant)
    status = 200
    if form.is_submitted():
        saved, status = attempt(form, lambda: tenants.update_settings(
            tc.tenant.id, actor(), name=form.name.data,
            max_points_per_operation=form.max_points_per_operation.data,
            default_expiry_days=form.default_expiry_days.data,
            timezone=(form.timezone.data or "").strip() or None,
            expiry_notice_days=form.expiry_notice_days.data,
            default_country_code=form.default_country_code.data or ""))
        if saved is not None:
            flash(_("Settings saved."))
            return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form), status


from app.web.admin import api_client_views, staff_views, webhook_views  # noqa: E402,F401
