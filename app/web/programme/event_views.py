"""An event's page: its awards, status and refunds, and the revoke form."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.services import programme
from app.services.errors import DomainError
from app.services.permissions import ADJUST, VIEW
from app.web.context import actor
from app.web.programme import bp
from app.web.programme.forms import RevokeForm
from app.web.render import refuse
from app.web.tenancy import TenantContext, tenant_view


def _render(tc: TenantContext, event_id: str, form: RevokeForm | None, status: int = 200):
    row = programme.find_event_row(tc.tenant.id, event_id)
    shown = programme.get_event(tc.tenant.id, event_id)
    return render_template("programme/event.html", event=shown.event, awards=shown.awards,
                           revocations=programme.revocations_of(tc.tenant.id, row.id),
                           form=form), status


@bp.route("/t/<slug>/events/<path:event_id>/")
@tenant_view(VIEW)
def event(tc: TenantContext, event_id: str):
    return _render(tc, event_id, RevokeForm(formdata=None) if tc.can(ADJUST) else None)


@bp.route("/t/<slug>/events/<path:event_id>/revoke", methods=["POST"])
@tenant_view(ADJUST)
def revoke(tc: TenantContext, event_id: str):
    form = RevokeForm()
    try:
        result = programme.revoke(tc.tenant.id, actor(), event_id, reason=form.reason.data,
                                  amount=(form.amount.data or "").strip() or None)
    except DomainError as exc:
        return _render(tc, event_id, form, refuse(form, exc))
    flash(_("Taken back: %(taken)s points; pending cancelled: %(cancelled)s; not recovered "
            "(already spent): %(lost)s.", taken=result.taken_back,
            cancelled=result.cancelled_pending, lost=result.not_recovered))
    return redirect(url_for("programme.event", event_id=event_id))
