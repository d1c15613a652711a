"""Staff of the tenant (owner only): add, change role, deactivate."""
from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_login import current_user
from flask_babel import gettext as _

from app.services import consequences, staff
from app.services.errors import DomainError
from app.services.permissions import MANAGE_STAFF
from app.web.admin import bp
from app.web.admin.forms import RoleForm, StaffForm, role_choices
from app.web.confirm import ConfirmForm, confirmation
from app.web.context import actor
from app.web.render import attempt, page
from app.web.tenancy import TenantContext, tenant_view


def _listing(tc: TenantContext, form: StaffForm, status: int = 200, error: str | None = None):
    people = staff.list_staff(tc.tenant.id)
    g.pop("my_roles", None)  # a change made here may be the signed-in user's own role
    return page("admin/staff.html", "admin/_staff_table.html", status, form=form, people=people,
                role_form=RoleForm(formdata=None), error=error)


def _refusal(exc: DomainError) -> str:
    messages = [m for ms in exc.details.get("field_errors", {}).values() for m in ms]
    return " ".join(messages) or exc.text()


@bp.route("/t/<slug>/staff/", methods=["GET", "POST"], endpoint="staff")
@tenant_view(MANAGE_STAFF)
def staff_list(tc: TenantContext):
    form = StaffForm()
    if not form.is_submitted():
        return _listing(tc, form)
    user, status = attempt(form, lambda: staff.create_or_add_role(
        tc.tenant.id, actor(), email=form.email.data, role=form.role.data,
        password=form.password.data or None, display_name=form.display_name.data or ""))
    if user is not None:
        flash(_("%(email)s added as %(role)s.", email=user.email,
                role=form.role.choices[form.role.data]))
        return redirect(url_for("admin.staff"))
    return _listing(tc, form, status)


@bp.route("/t/<slug>/staff/<int:staff_id>/role", methods=["POST"])
@tenant_view(MANAGE_STAFF)
def staff_role(tc: TenantContext, staff_id: int):
    form = RoleForm()
    if form.validate_on_submit():
        try:
            staff.change_role(tc.tenant.id, actor(), staff_id, form.role.data)
        except DomainError as exc:
            if exc.status == 404:
                raise
            return _listing(tc, StaffForm(formdata=None), 422, error=_refusal(exc))
        flash(_("Role changed."))
    return redirect(url_for("admin.staff"))


@bp.route("/t/<slug>/staff/<int:staff_id>/deactivate", methods=["GET", "POST"])
@tenant_view(MANAGE_STAFF)
def staff_deactivate(tc: TenantContext, staff_id: int):
    """The confirmation (GET), then the removal (POST)."""
    what = consequences.access_removal(tc.tenant.id, staff_id)
    email, back = what.user.email, url_for("admin.staff")
    refusal = None
    if not what.membership.is_active:
        refusal = _("%(email)s has no access to remove.", email=email)
    elif what.last_owner:
        refusal = _("%(email)s is the only owner: make someone else owner first.", email=email)
    elif ConfirmForm().validate_on_submit():
        try:
            staff.deactivate(tc.tenant.id, actor(), staff_id)
        except DomainError as exc:  # the last other owner left meanwhile
            if exc.status == 404:
                raise
            return _listing(tc, StaffForm(formdata=None), 422, error=_refusal(exc))
        flash(_("Access removed."))
        return redirect(url_for("home.index") if what.user.id == current_user.id else back)
    said = [
        _("%(email)s can no longer open %(programme)s; their role was %(role)s.", email=email,
          programme=tc.tenant.name, role=role_choices()[what.membership.role]),
        _("They are signed out at once, in every browser and every programme."),
        _("Their account and what they did stay in the history and the audit log; you can "
          "add them again later."),
    ]
    if what.user.id == current_user.id:
        said.insert(0, _("This is your own access: you will leave this programme."))
    return confirmation(title=_("Remove %(email)s's access?", email=email),
                        subject=f"{what.user.display_name} <{email}>" if what.user.display_name
                        else email, consequences=said, button=_("Remove access"),
                        cancel_url=back, refusal=refusal)
