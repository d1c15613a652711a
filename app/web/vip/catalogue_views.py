"""The tenant's VIP catalogue: list, create, edit, delete (or retire, once held)."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from app.services import consequences, vip
from app.services.permissions import MANAGE
from app.web.confirm import ConfirmForm, confirmation
from app.web.context import actor
from app.web.render import attempt, page
from app.web.tenancy import TenantContext, tenant_view
from app.web.vip import bp
from app.web.vip.forms import TagForm


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
        tag, status = attempt(form, lambda: vip.create_tag(tc.tenant.id, actor(), **_data(form)))
        if tag is not None:
            flash(_("Tag %(name)s created.", name=tag.tag_name))
            return redirect(url_for("vip.catalogue"))
    return page("vip/catalogue.html", "vip/_tags_table.html", status, form=form,
                tags=vip.list_tags(tc.tenant.id, include_inactive=True))


@bp.route("/t/<slug>/vip-tags/<int:tag_id>/edit", methods=["GET", "POST"])
@tenant_view(MANAGE)
def edit_tag(tc: TenantContext, tag_id: int):
    tag = vip.get_tag(tc.tenant.id, tag_id)
    form = TagForm(obj=tag)
    status = 200
    if form.is_submitted():
        saved, status = attempt(form, lambda: vip.update_tag(tc.tenant.id, actor(), tag_id,
                                                              **_data(form)))
        if saved is not None:
            flash(_("Tag %(name)s saved.", name=form.tag_name.data))
            return redirect(url_for("vip.catalogue"))
    return render_template("vip/edit.html", form=form, tag=tag), status


@bp.route("/t/<slug>/vip-tags/<int:tag_id>/delete", methods=["GET", "POST"])
@tenant_view(MANAGE)
def delete_tag(tc: TenantContext, tag_id: int):
    """The confirmation (GET), then the deletion or retirement (POST)."""
    what = consequences.tag_deletion(tc.tenant.id, tag_id)
    tag, back = what.tag, url_for("vip.catalogue")
    if tag.is_active and ConfirmForm().validate_on_submit():
        outcome = vip.delete_tag(tc.tenant.id, actor(), tag_id)
        if outcome == "retired":
            flash(_("Tag %(name)s retired: members held it, so it stays in their history but "
                    "can no longer be granted.", name=tag.tag_name))
        else:
            flash(_("Tag %(name)s deleted.", name=tag.tag_name))
        return redirect(back)
    if what.retires:
        title = _("Retire VIP tag %(name)s?", name=tag.tag_name)
        said = [_("Members have held this tag, so it is retired, not deleted: it stays in "
                  "their history but can no longer be granted."),
                ngettext("%(num)s member holds it now and keeps it until it ends.",
                         "%(num)s members hold it now and keep it until it ends.",
                         what.held_now) if what.held_now else
                _("Nobody holds it now."),
                _("This cannot be undone.")]
        button = _("Retire tag")
    else:
        title = _("Delete VIP tag %(name)s?", name=tag.tag_name)
        said = [_("No member ever held it, so it is deleted for good."),
                _("This cannot be undone; you can create it again.")]
        button = _("Delete tag")
    return confirmation(
        title=title, subject=_("%(name)s · type %(type)s · rank %(rank)s", name=tag.tag_name,
                               type=tag.tag_type, rank=tag.rank),
        consequences=said, button=button, cancel_url=back,
        refusal=None if tag.is_active else _("This tag is already retired."))
