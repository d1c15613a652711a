"""Integration credentials (owner only): create (the secret shown once), revoke.

Creating is POST-redirect-GET, so a reload cannot create a second client: the
new secret waits for the one page the redirect leads to (shown_once). The
database keeps only its hash."""
from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from app.services import api_clients, consequences
from app.services.api_clients import IssuedClient
from app.services.errors import DomainError
from app.services.permissions import MANAGE_API_CLIENTS
from app.web import shown_once
from app.web.admin import bp
from app.web.admin.forms import ApiClientForm
from app.web.confirm import ConfirmForm, confirmation
from app.web.context import actor
from app.web.render import attempt, page
from app.web.tenancy import TenantContext, tenant_view


def _keep_for_one_read(tc: TenantContext, issued: IssuedClient) -> None:
    shown_once.keep("api_client", tc.tenant.id, issued.client.id, issued.client_secret)


def _take_issued(tc: TenantContext) -> IssuedClient | None:
    kept = shown_once.take("api_client", tc.tenant.id)
    if kept is None:
        return None
    client_pk, secret = kept
    try:
        client = api_clients.get(tc.tenant.id, client_pk)
    except DomainError:
        return None
    return IssuedClient(client, secret)


def _listing(tc: TenantContext, form: ApiClientForm, status: int = 200,
             issued: IssuedClient | None = None):
    return page("admin/api_clients.html", "admin/_api_clients_table.html", status, form=form,
                clients=api_clients.list_clients(tc.tenant.id), issued=issued)


@bp.route("/t/<slug>/api-clients/", methods=["GET", "POST"], endpoint="api_clients")
@tenant_view(MANAGE_API_CLIENTS)
def api_clients_list(tc: TenantContext):
    form = ApiClientForm()
    if not form.is_submitted():
        return _listing(tc, form, issued=_take_issued(tc))
    issued, status = attempt(form, lambda: api_clients.create(
        tc.tenant.id, actor(), name=form.name.data, permissions=form.permissions.data,
        rate_limit=form.rate_limit.data or None, created_by_staff_id=current_user.id))
    if issued is not None:
        # The service keeps nothing but a hash: the page after the redirect shows it once.
        _keep_for_one_read(tc, issued)
        return redirect(url_for("admin.api_clients"), 303)
    return _listing(tc, form, status)


@bp.route("/t/<slug>/api-clients/<int:client_pk>/revoke", methods=["GET", "POST"])
@tenant_view(MANAGE_API_CLIENTS)
def api_client_revoke(tc: TenantContext, client_pk: int):
    """The confirmation (GET), then the revocation (POST)."""
    what = consequences.client_revocation(tc.tenant.id, client_pk)
    client = what.client
    back = url_for("admin.api_clients")
    if client.revoked_at is None and ConfirmForm().validate_on_submit():
        api_clients.revoke(tc.tenant.id, actor(), client_pk)
        flash(_("Client %(name)s revoked; its tokens no longer work.", name=client.name))
        return redirect(back)
    said = [
        _("Every access and refresh token issued to it stops working at once: an integration "
          "using it gets 401 errors until it is given a new client and secret."),
        ngettext("%(num)s sign-in is live now.", "%(num)s sign-ins are live now.",
                 what.live_token_families),
        _("It was last used %(time)s.", time=format_datetime(client.last_used_at, "short"))
        if client.last_used_at else _("It has never been used."),
        _("This cannot be undone; the client stays listed as revoked."),
    ]
    return confirmation(
        title=_("Revoke API client %(name)s?", name=client.name),
        subject=_("%(name)s (client_id %(client_id)s)", name=client.name,
                  client_id=client.client_id),
        consequences=said, button=_("Revoke client"), cancel_url=back,
        refusal=_("This client was already revoked %(time)s.",
                  time=format_datetime(client.revoked_at, "short")) if client.revoked_at else None)
