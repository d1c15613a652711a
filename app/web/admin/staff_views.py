"""Staff of the tenant (owner only): add, change role, deactivate."""
from __future__ import annotations

from flask import flash, g, redirect, url_for
from flask_babel import gettext as _

from app.services import staff
from app.services.errors import DomainError
from app.services.permissions import MANAGE_STAFF
from app.web.admin import bp
from app.web.admin.forms import ButtonForm, RoleForm, StaffForm
from app.web.context import actor
from app.web.render import page, refuse
from app.web.tenancy import TenantContext, tenant_view


def _listing(tc: TenantContext, form: StaffForm, status: int = 200, error: str | None = None):
    people = staff.list_staff(tc.tenant.id)
    g.pop("my_roles", None)  # a change made here may be the signed-in user's own role
    return page("admin/staff.html", "admin/_staff_table.html", status, form=form, people=people,
                role_form=RoleForm(formdata=None), button=ButtonForm(), error=error)


def _refusal(exc: DomainError) -> str:
    messages = [m for ms in exc.details.get("field_errors", {}).values() for m in ms]
    return " ".join(messages) or exc.text()


@bp.route("/t/<slug>/staff/", methods=["GET", "POST"], endpoint="staff")
@tenant_view(MANAGE_STAFF)
def staff_list(tc: TenantContext):
    form = StaffForm()
    if not form.is_submitted():
        return _listing(tc, form)
    status = 422
    if form.validate():
        try:
            user = staff.create_or_add_role(
                tc.tenant.id, actor(), email=form.email.data, role=form.role.data,
                password=form.password.data or None, display_name=form.display_name.data or "")
        except DomainError as exc:
            status = refuse(form, exc)
        else:
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


@bp.route("/t/<slug>/staff/<int:staff_id>/deactivate", methods=["POST"])
@tenant_view(MANAGE_STAFF)
def staff_deactivate(tc: TenantContext, staff_id: int):
    try:
        staff.deactivate(tc.tenant.id, actor(), staff_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _listing(tc, StaffForm(formdata=None), 422, error=_refusal(exc))
    flash(_("Access removed."))
    return redirect(url_for("admin.staff"))
