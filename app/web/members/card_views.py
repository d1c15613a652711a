"""A member's card: create a member, edit the details, switch points off and on,
add an internal note. Each form posts, redirects after a success (PRG) and shows
its errors inline after a refusal (422)."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.services import member_card, members
from app.services.errors import DomainError
from app.services.permissions import ADJUST, MANAGE
from app.web.context import actor
from app.web.members import bp
from app.web.members.card_forms import DetailsForm, NewMemberForm, NoteForm, PointsSwitchForm
from app.web.members.views import member_context
from app.web.render import once, refuse
from app.web.tenancy import TenantContext, tenant_view


def _details(form: DetailsForm) -> dict[str, Any]:
    return {"display_name": form.display_name.data or "", "email": form.email.data or None,
            "phone": form.phone.data or None}


@bp.route("/t/<slug>/members/new", methods=["GET", "POST"])
@tenant_view(MANAGE)
def new(tc: TenantContext):
    form = NewMemberForm()
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            def operation() -> dict[str, Any]:
                profile = members.create(tc.tenant.id, actor(), user_id=form.user_id.data,
                                         **_details(form))
                return {"user_id": profile.user_id}

            try:
                done, _replayed = once(tc.tenant.id, form.idempotency_key.data, form, operation)
            except DomainError as exc:
                status = refuse(form, exc)
            else:
                flash(_("Member created."))
                return redirect(url_for("members.show", user_id=done["user_id"]))
    return render_template("members/new.html", form=form), status


@bp.route("/t/<slug>/members/<user_id>/edit", methods=["GET", "POST"])
@tenant_view(MANAGE)
def edit(tc: TenantContext, user_id: str):
    profile = members.get_profile(tc.tenant.id, user_id)  # another tenant's: 404
    form = DetailsForm(data={"display_name": profile.display_name, "email": profile.email,
                             "phone": profile.phone})
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            try:
                member_card.update_details(tc.tenant.id, actor(), user_id, **_details(form))
            except DomainError as exc:
                if exc.status == 404:
                    raise
                status = refuse(form, exc)
            else:
                flash(_("Details saved."))
                return redirect(url_for("members.show", user_id=user_id))
    return render_template("members/edit.html", form=form, profile=profile), status


@bp.route("/t/<slug>/members/<user_id>/points-switch", methods=["POST"])
@tenant_view(MANAGE)
def points_switch(tc: TenantContext, user_id: str):
    members.locate(tc.tenant.id, user_id)
    form = PointsSwitchForm()
    if not form.validate() or form.enabled.data not in ("on", "off"):
        return render_template("members/show.html", **member_context(
            tc, user_id, switch_error=_("The form was not sent as shown. Please try again."))), 422
    enabled = form.enabled.data == "on"
    members.set_points_enabled(tc.tenant.id, actor(), user_id, enabled)
    flash(_("Points switched on for this member.") if enabled
          else _("Points switched off for this member."))
    return redirect(url_for("members.show", user_id=user_id))


@bp.route("/t/<slug>/members/<user_id>/notes", methods=["POST"])
@tenant_view(ADJUST)
def add_note(tc: TenantContext, user_id: str):
    members.locate(tc.tenant.id, user_id)
    form = NoteForm()
    if form.validate():
        def operation() -> dict[str, Any]:
            return {"note_id": member_card.add_note(tc.tenant.id, actor(), user_id,
                                                    form.body.data).id}

        try:
            once(tc.tenant.id, form.idempotency_key.data, form, operation)
        except DomainError as exc:
            if exc.status == 404:
                raise
            refuse(form, exc)
        else:
            flash(_("Note added."))
            return redirect(url_for("members.show", user_id=user_id, _anchor="notes"))
    return render_template("members/show.html", **member_context(tc, user_id, note=form)), 422
