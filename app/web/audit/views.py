from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import Optional

from app.services import audit_search, tenants
from app.services.errors import ValidationFailed
from app.services.members import Page
from app.services.permissions import MANAGE
from app.web.audit import bp
from app.web.forms import Form
from app.web.render import apply_errors, page
from app.web.tenancy import TenantContext, tenant_view

TARGET_TYPES = ("member", "transaction", "batch", "vip_tag", "level", "staff", "api_client",
                "tenant", "export")


class AuditFilterForm(Form):
    class Meta:
        csrf = False  # a GET filter changes nothing

    actor = StringField(_l("Actor"), validators=[Optional()])
    action = StringField(_l("Action"), validators=[Optional()])
    target_type = SelectField(_l("Target type"), validate_choice=False,
                              choices=lambda: {"": _("Any")} | {t: t for t in TARGET_TYPES})
    target_id = StringField(_l("Target id"), validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To (inclusive)"), validators=[Optional()])
    cursor = HiddenField()


def _midnight(day: date, zone: tzinfo) -> datetime | None:
    """The start of a calendar day in the tenant's time zone, as an instant; None
    (no bound) at the calendar's first day, whose start may precede year 1 in UTC."""
    try:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    except OverflowError:
        return None


def _end_of(day: date, zone: tzinfo) -> datetime | None:
    """The midnight after `day`; None (no bound) for the calendar's last day."""
    return _midnight(day + timedelta(days=1), zone) if day < date.max else None


@bp.route("/t/<slug>/audit/")
@tenant_view(MANAGE)
def index(tc: TenantContext):
    form = AuditFilterForm(request.args)
    result = Page([], None, 50)
    status = 200
    zone = tenants.zone(tc.tenant)
    if form.validate():
        try:
            result = audit_search.search(
                tc.tenant.id, actor=form.actor.data, action=form.action.data,
                target_type=form.target_type.data or None, target_id=form.target_id.data,
                since=_midnight(form.date_from.data, zone) if form.date_from.data else None,
                until=_end_of(form.date_to.data, zone) if form.date_to.data else None,
                cursor=form.cursor.data or None)
        except ValidationFailed as exc:
            apply_errors(form, exc)
            status = 422
    else:
        status = 422
    args = {k: v for k, v in request.args.items() if k != "cursor" and v}
    return page("audit/index.html", "audit/_rows.html", status, form=form, result=result,
                args=args, actions=audit_search.KNOWN_ACTIONS, as_json=_as_json,
                first_page=not form.cursor.data)


def _as_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True, default=str)
