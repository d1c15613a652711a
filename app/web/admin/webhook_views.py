"""Settings → Webhooks (owner and admin): add an endpoint (its secret shown once,
after a redirect), the list with each endpoint's health, its deliveries, "Send a
test", "Send again", disable and enable, delete after a confirmation page."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.services.errors import DomainError
from app.services.permissions import MANAGE
from app.services.webhooks import endpoints
from app.web import labels, shown_once
from app.web.admin import bp
from app.web.admin.forms import ButtonForm, WebhookForm
from app.web.context import actor
from app.web.render import attempt
from app.web.tenancy import TenantContext, tenant_view



@bp.app_template_global("delivery_status_label")
def delivery_status_label(status: str | None) -> str:
    return labels.label(labels.DELIVERY_STATUSES, status)


def _listing(tc: TenantContext, form: WebhookForm, status: int = 200):
    items = endpoints.list_endpoints(tc.tenant.id)
    health = endpoints.health(tc.tenant.id, [e.id for e in items])
    return render_template("admin/webhooks.html", form=form, endpoints=items, health=health), status


@bp.route("/t/<slug>/settings/webhooks/", methods=["GET", "POST"], endpoint="webhooks")
@tenant_view(MANAGE)
def webhooks_list(tc: TenantContext):
    form = WebhookForm()
    if not form.is_submitted():
        return _listing(tc, form)
    created, status = attempt(form, lambda: endpoints.create(
        tc.tenant.id, actor(), url=form.url.data, event_types=form.event_types.data,
        description=form.description.data))
    if created is not None:
        # For the next page only (post-redirect-get); the database has it
        # encrypted and no page shows it again.
        shown_once.keep("webhook", tc.tenant.id, created.id, created.secret)
        return redirect(url_for("admin.webhook", endpoint_id=created.id))
    return _listing(tc, form, status)


@bp.route("/t/<slug>/settings/webhooks/<int:endpoint_id>/", endpoint="webhook")
@tenant_view(MANAGE)
def webhook_detail(tc: TenantContext, endpoint_id: int):
    endpoint = _get(tc, endpoint_id)
    once = shown_once.take("webhook", tc.tenant.id, endpoint.id)
    secret = once[1] if once else None
    status_filter = request.args.get("status") or None
    try:
        deliveries = endpoints.deliveries(tc.tenant.id, endpoint.id,
                                          cursor=request.args.get("cursor"),
                                          status=status_filter)
    except DomainError:
        abort(404)
    health = endpoints.health(tc.tenant.id, [endpoint.id])[endpoint.id]
    return render_template("admin/webhook.html", endpoint=endpoint, secret=secret,
                           deliveries=deliveries, health=health, status_filter=status_filter)


def _get(tc: TenantContext, endpoint_id: int) -> endpoints.EndpointView:
    try:
        return endpoints.get_view(tc.tenant.id, endpoint_id)
    except DomainError:
        abort(404)


def _checked_post() -> None:
    if not ButtonForm().validate_on_submit():
        abort(400)


@bp.route("/t/<slug>/settings/webhooks/<int:endpoint_id>/test", methods=["POST"])
@tenant_view(MANAGE)
def webhook_test(tc: TenantContext, endpoint_id: int):
    _checked_post()
    _get(tc, endpoint_id)
    try:
        endpoints.send_test(tc.tenant.id, actor(), endpoint_id)
    except DomainError as exc:
        flash(exc.text())
    else:
        flash(_("A test event (ping) is on its way."))
    return redirect(url_for("admin.webhook", endpoint_id=endpoint_id))


@bp.route("/t/<slug>/settings/webhooks/<int:endpoint_id>/messages/<msg_id>/resend",
          methods=["POST"])
@tenant_view(MANAGE)
def webhook_resend(tc: TenantContext, endpoint_id: int, msg_id: str):
    _checked_post()
    try:
        endpoints.send_again(tc.tenant.id, actor(), endpoint_id, msg_id)
    except DomainError:
        abort(404)
    flash(_("The message will be sent again."))
    return redirect(url_for("admin.webhook", endpoint_id=endpoint_id))


@bp.route("/t/<slug>/settings/webhooks/<int:endpoint_id>/active", methods=["POST"])
@tenant_view(MANAGE)
def webhook_active(tc: TenantContext, endpoint_id: int):
    _checked_post()
    _get(tc, endpoint_id)
    if request.form.get("active") == "1":
        endpoints.enable(tc.tenant.id, actor(), endpoint_id)
        flash(_("Endpoint enabled."))
    else:
        endpoints.disable(tc.tenant.id, actor(), endpoint_id)
        flash(_("Endpoint disabled: its events wait until it is enabled again."))
    return redirect(url_for("admin.webhook", endpoint_id=endpoint_id))


@bp.route("/t/<slug>/settings/webhooks/<int:endpoint_id>/delete", methods=["GET", "POST"])
@tenant_view(MANAGE)
def webhook_delete(tc: TenantContext, endpoint_id: int):
    endpoint = _get(tc, endpoint_id)
    form = ButtonForm()
    if form.validate_on_submit():
        endpoints.delete(tc.tenant.id, actor(), endpoint_id)
        flash(_("Endpoint deleted: nothing more is sent to it."))
        return redirect(url_for("admin.webhooks"))
    return render_template("admin/webhook_delete.html", endpoint=endpoint, button=form)
