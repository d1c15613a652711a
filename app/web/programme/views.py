"""Programme → Earning rules: the list, a form per award type, activate and
deactivate (audited by the service), and the simulator (HTMX, writes nothing)."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.services import levels, programme, tenants
from app.services.errors import DomainError, ValidationFailed
from app.services.permissions import MANAGE, VIEW
from app.web.context import actor
from app.web.programme import bp
from app.web.members.forms import category_choices
from app.web.programme.forms import (
    ERROR_FIELDS, RuleForm, SimulatorForm, fill, local_time, rule_values,
)
from app.web.programme.words import award_words, limit_words, reason_words
from app.web.render import page, refuse
from app.web.tenancy import TenantContext, tenant_view


def _remapped(exc: DomainError) -> DomainError:
    """The service names award and limit fields by their JSON path; the form flat."""
    if isinstance(exc, ValidationFailed):
        errors: dict[str, list[str]] = {}
        for name, messages in exc.field_errors.items():
            errors.setdefault(ERROR_FIELDS.get(name, name), []).extend(messages)
        return ValidationFailed(errors)
    return exc


def _rule_form(tc: TenantContext, **kwargs: Any) -> RuleForm:
    form = RuleForm(**kwargs)
    form.levels.choices = {lv.id: lv.level_name for lv in levels.list_levels(tc.tenant.id)}
    form.category.choices = category_choices(_("Same as the event type"))
    return form


def _simulator(tc: TenantContext, **kwargs: Any) -> SimulatorForm:
    form = SimulatorForm(**kwargs)
    form.level.choices = {"": _("Any level")} | {
        str(lv.id): lv.level_name for lv in levels.list_levels(tc.tenant.id)}
    return form


def _context(tc: TenantContext, form: RuleForm | None = None) -> dict[str, Any]:
    names = {lv.id: lv.level_name for lv in levels.list_levels(tc.tenant.id)}
    return dict(rules=programme.list_rules(tc.tenant.id), form=form, simulator=_simulator(tc),
                award_words=lambda r: award_words(r, names), limit_words=limit_words,
                lines=None)


@bp.route("/t/<slug>/programme/rules/", methods=["GET", "POST"])
@tenant_view(VIEW)
def rules(tc: TenantContext):
    form = _rule_form(tc) if tc.can(MANAGE) else None
    status = 200
    if form is not None and form.is_submitted():
        try:
            rule = programme.create_rule(tc.tenant.id, actor(),
                                         rule_values(form, tenants.zone(tc.tenant)))
        except DomainError as exc:
            status = refuse(form, _remapped(exc))
        else:
            flash(_("Rule %(name)s created.", name=rule.name))
            return redirect(url_for("programme.rules"))
    elif form is not None:
        form.active.data = True
        form.pending_days.data = "0"
    return render_template("programme/rules.html", **_context(tc, form)), status


@bp.route("/t/<slug>/programme/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@tenant_view(MANAGE)
def edit(tc: TenantContext, rule_id: int):
    rule = programme.get_rule(tc.tenant.id, rule_id)
    zone = tenants.zone(tc.tenant)
    form = _rule_form(tc)
    status = 200
    if form.is_submitted():
        try:
            programme.update_rule(tc.tenant.id, actor(), rule_id, rule_values(form, zone))
        except DomainError as exc:
            status = refuse(form, _remapped(exc))
        else:
            flash(_("Rule %(name)s saved; events from now on use it.", name=form.name.data))
            return redirect(url_for("programme.rules"))
    else:
        fill(form, rule, zone)
    return render_template("programme/edit.html", form=form, rule=rule), status


@bp.route("/t/<slug>/programme/rules/<int:rule_id>/active", methods=["POST"])
@tenant_view(MANAGE)
def toggle(tc: TenantContext, rule_id: int):
    # The form says which state it asks for (as the webhook switch does), so a
    # second submit of the same page sets it again rather than flipping it back.
    wanted = request.form.get("active")
    if wanted not in ("0", "1"):
        abort(400)
    rule = programme.set_active(tc.tenant.id, actor(), rule_id, wanted == "1")
    flash(_("Rule %(name)s activated.", name=rule.name) if rule.active
          else _("Rule %(name)s deactivated.", name=rule.name))
    return redirect(url_for("programme.rules"))


@bp.route("/t/<slug>/programme/simulate", methods=["GET", "POST"])
@tenant_view(VIEW)
def simulate(tc: TenantContext):
    form = _simulator(tc)
    lines = None
    status = 200
    if form.is_submitted():
        try:
            lines = programme.simulate(
                tc.tenant.id, event_type=(form.event_type.data or "").strip(),
                amount=(form.amount.data or "").strip() or None,
                occurred_at=local_time(form.occurred_at.data, tenants.zone(tc.tenant)),
                user_id=(form.user_id.data or "").strip() or None,
                level_id=int(form.level.data) if (form.level.data or "").isdigit() else None)
        except DomainError as exc:
            status = refuse(form, exc)
    context = _context(tc)
    context.update(simulator=form, lines=lines, reason_words=reason_words)
    return page("programme/rules.html", "programme/_simulation.html", status, **context)
