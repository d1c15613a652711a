"""Integration credentials (owner only): create (the secret shown once), revoke."""
from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services import api_clients
from app.services.errors import DomainError
from app.services.permissions import MANAGE_API_CLIENTS
from app.web.admin import bp
from app.web.admin.forms import ApiClientForm, ButtonForm
from app.web.context import actor
from app.web.render import page, refuse
from app.web.tenancy import TenantContext, tenant_view


def _listing(tc: TenantContext, form: ApiClientForm, status: int = 200, issued=None):
    return page("admin/api_clients.html", "admin/_api_clients_table.html", status, form=form,
                clients=api_clients.list_clients(tc.tenant.id), button=ButtonForm(),
                issued=issued)


@bp.route("/t/<slug>/api-clients/", methods=["GET", "POST"], endpoint="api_clients")
@tenant_view(MANAGE_API_CLIENTS)
def api_clients_list(tc: TenantContext):
    form = ApiClientForm()
    if not form.is_submitted():
        return _listing(tc, form)
    status = 422
    if form.validate():
        try:
            issued = api_clients.create(
                tc.tenant.id, actor(), name=form.name.data, permissions=form.permissions.data,
                rate_limit=form.rate_limit.data or None, created_by_staff_id=current_user.id)
        except DomainError as exc:
            status = refuse(form, exc)
        else:
            # Shown in this response only: the service keeps nothing but a hash.
            return _listing(tc, ApiClientForm(formdata=None), 201, issued=issued)
    return _listing(tc, form, status)


@bp.route("/t/<slug>/api-clients/<int:client_pk>/revoke", methods=["POST"])
@tenant_view(MANAGE_API_CLIENTS)
def api_client_revoke(tc: TenantContext, client_pk: int):
    client = api_clients.get(tc.tenant.id, client_pk)
    api_clients.revoke(tc.tenant.id, actor(), client_pk)
    flash(_("Client %(name)s revoked; its tokens no longer work.", name=client.name))
    return redirect(url_for("admin.api_clients"))
