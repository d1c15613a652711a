"""Granting a VIP tag to a member, and resolving a conflict with the tag of the
same type the member already holds (vip.preview_conflict says what each
resolution would do; vip.grant applies the one chosen)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.services import members, vip
from app.services.errors import DomainError
from app.services.permissions import ADJUST
from app.web.context import actor
from app.web.members.views import history_form_and_page, member_context
from app.web.render import is_partial, new_key, once, refuse
from app.web.tenancy import TenantContext, tenant_view
from app.web.vip import bp
from app.web.vip.forms import GrantForm, grant_form


def _conflict_context(tc: TenantContext, user_id: str, form: GrantForm) -> dict | None:
    preview = vip.preview_conflict(tc.tenant.id, user_id, form.tag_id.data)
    if preview is None:
        return None
    profile = members.get_profile(tc.tenant.id, user_id)
    price = preview.requested.points_price
    return {"preview": preview, "profile": profile, "price": price,
            "balance_after": profile.total_points - price if price else None}


@bp.route("/t/<slug>/members/<user_id>/vip", methods=["GET", "POST"])
@tenant_view(ADJUST)
def grant(tc: TenantContext, user_id: str):
    members.locate(tc.tenant.id, user_id)
    if request.method == "GET":  # "cancel" on the conflict form
        if not is_partial():
            return redirect(url_for("members.show", user_id=user_id))
        return render_template("vip/_grant.html", form=grant_form(tc),
                               profile=members.get_profile(tc.tenant.id, user_id))
    form = grant_form(tc, bound=True)
    status, conflict = 422, None
    if form.validate_on_submit():
        resolution = form.resolution.data or None
        key = form.idempotency_key.data
        try:
            once(tc.tenant.id, key, form, lambda: {"tags": [t.id for t in vip.grant(
                tc.tenant.id, actor(), user_id=user_id, tag_id=form.tag_id.data,
                resolution=resolution, pay_with_points=bool(form.pay_with_points.data),
                idempotency_key=key)]})
        except DomainError as exc:
            if exc.status == 404:
                raise
            if exc.code == "VIP_TAG_CONFLICT" or resolution:
                conflict = _conflict_context(tc, user_id, form)
            if exc.code == "VIP_TAG_CONFLICT":
                status = 409
                if conflict is None:  # the other tag ended meanwhile: just try again
                    form.form_errors.append(_("The member's tags changed meanwhile. Try again."))
            else:
                status = refuse(form, exc)
            form.idempotency_key.data = new_key()
        else:
            return _granted(tc, user_id, form)
    if is_partial():
        if conflict:
            return render_template("vip/_conflict.html", form=form, **conflict), status
        return render_template("vip/_grant.html", form=form,
                               profile=members.get_profile(tc.tenant.id, user_id)), status
    extra = {"vip": form}
    if conflict:
        extra.update(vip_partial="vip/_conflict.html", vip_context=conflict)
    return render_template("members/show.html", **member_context(tc, user_id, **extra)), status


def _granted(tc: TenantContext, user_id: str, form: GrantForm):
    tag = vip.get_tag(tc.tenant.id, form.tag_id.data)
    message = _("%(tag)s granted.", tag=tag.tag_name)
    if not is_partial():
        flash(message)
        return redirect(url_for("members.show", user_id=user_id))
    profile = members.get_profile(tc.tenant.id, user_id)
    _form, page = history_form_and_page(tc, profile)
    return render_template("vip/_granted.html", form=grant_form(tc), profile=profile,
                           message=message, page=page)


from app.web.vip import catalogue_views  # noqa: E402,F401
