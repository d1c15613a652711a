"""The tenant's VIP catalogue: list, create, edit, delete (or retire, once held)."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.services import vip
from app.services.errors import DomainError
from app.services.permissions import MANAGE
from app.web.context import actor
from app.web.render import page, refuse
from app.web.tenancy import TenantContext, tenant_view
from app.web.vip import bp
from app.web.vip.forms import DeleteForm, TagForm


def _data(form: TagForm) -> dict[str, Any]:
    return {"tag_name": form.tag_name.data, "tag_type": form.tag_type.data,
            "rank": form.rank.data, "duration_days": form.duration_days.data,
            "points_price": form.points_price.data}


@bp.route("/t/<slug>/vip-tags/", methods=["GET", "POST"])
@tenant_view(MANAGE)
def catalogue(tc: TenantContext):
    form = TagForm()
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            try:
                tag = vip.create_tag(tc.tenant.id, actor(), **_data(form))
            except DomainError as exc:
                status = refuse(form, exc)
            else:
                flash(_("Tag %(name)s created.", name=tag.tag_name))
                return redirect(url_for("vip.catalogue"))
    tags = vip.list_tags(tc.tenant.id, include_inactive=True)
    return page("vip/catalogue.html", "vip/_tags_table.html", status, form=form, tags=tags,
                delete_form=DeleteForm())


@bp.route("/t/<slug>/vip-tags/<int:tag_id>/edit", methods=["GET", "POST"])
@tenant_view(MANAGE)
def edit_tag(tc: TenantContext, tag_id: int):
    tag = vip.get_tag(tc.tenant.id, tag_id)
    form = TagForm(obj=tag)
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            try:
                vip.update_tag(tc.tenant.id, actor(), tag_id, **_data(form))
            except DomainError as exc:
                status = refuse(form, exc)
            else:
                flash(_("Tag %(name)s saved.", name=form.tag_name.data))
                return redirect(url_for("vip.catalogue"))
    return render_template("vip/edit.html", form=form, tag=tag), status


@bp.route("/t/<slug>/vip-tags/<int:tag_id>/delete", methods=["POST"])
@tenant_view(MANAGE)
def delete_tag(tc: TenantContext, tag_id: int):
    tag = vip.get_tag(tc.tenant.id, tag_id)
    outcome = vip.delete_tag(tc.tenant.id, actor(), tag_id)
    if outcome == "retired":
        flash(_("Tag %(name)s retired: members held it, so it stays in their history but "
                "can no longer be granted.", name=tag.tag_name))
    else:
        flash(_("Tag %(name)s deleted.", name=tag.tag_name))
    return redirect(url_for("vip.catalogue"))
