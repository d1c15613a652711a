"""Levels (tiers): list, create, edit, delete."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from app.services import consequences, levels
from app.services.permissions import MANAGE
from app.web.confirm import ConfirmForm, confirmation
from app.web.context import actor
from app.web.forms import Form
from app.web.levels import bp
from app.web.render import attempt, page
from app.web.tenancy import TenantContext, tenant_view


class LevelForm(Form):
    level_name = StringField(_l("Name"), validators=[Length(max=levels.LEVEL_NAME_MAX)])
    min_points = IntegerField(_l("Lifetime points needed"), validators=[InputRequired()])
    benefits = TextAreaField(_l("Benefits"), validators=[Length(max=levels.BENEFITS_MAX)])


def _data(form: LevelForm) -> dict[str, Any]:
    return {"level_name": form.level_name.data, "min_points": form.min_points.data,
            "benefits": form.benefits.data or ""}


@bp.route("/t/<slug>/levels/", methods=["GET", "POST"])
@tenant_view(MANAGE)
def index(tc: TenantContext):
    form = LevelForm()
    status = 200
    if form.is_submitted():
        level, status = attempt(form, lambda: levels.create(tc.tenant.id, actor(), **_data(form)))
        if level is not None:
            flash(_("Level %(name)s created.", name=form.level_name.data))
            return redirect(url_for("levels.index"))
    return page("levels/index.html", "levels/_table.html", status, form=form,
                levels=levels.list_levels_uncached(tc.tenant.id))


@bp.route("/t/<slug>/levels/<int:level_id>/edit", methods=["GET", "POST"])
@tenant_view(MANAGE)
def edit(tc: TenantContext, level_id: int):
    level = levels.get(tc.tenant.id, level_id)
    form = LevelForm(obj=level)
    status = 200
    if form.is_submitted():
        saved, status = attempt(form, lambda: levels.update_level(tc.tenant.id, actor(), level_id,
                                                                   **_data(form)))
        if saved is not None:
            flash(_("Level %(name)s saved.", name=form.level_name.data))
            return redirect(url_for("levels.index"))
    return render_template("levels/edit.html", form=form, level=level), status


@bp.route("/t/<slug>/levels/<int:level_id>/delete", methods=["GET", "POST"])
@tenant_view(MANAGE)
def delete(tc: TenantContext, level_id: int):
    """The confirmation (GET), then the deletion (POST)."""
    what = consequences.level_deletion(tc.tenant.id, level_id)
    name, back = what.level.level_name, url_for("levels.index")
    if ConfirmForm().validate_on_submit():
        levels.delete(tc.tenant.id, actor(), level_id)
        flash(_("Level %(name)s deleted; its members moved to the level their points reach.",
                name=name))
        return redirect(back)
    if not what.members:
        moved = _("No member is at this level now.")
    elif what.falls_to is None:
        moved = ngettext("%(num)s member is at this level now and will have no level.",
                         "%(num)s members are at this level now and will have no level.",
                         what.members)
    else:
        moved = ngettext("%(num)s member is at this level now and moves to %(level)s.",
                         "%(num)s members are at this level now and move to %(level)s.",
                         what.members, level=what.falls_to.level_name)
    said = [moved,
            _("Nobody reaches it any more, whatever their lifetime points; its benefits text "
              "is deleted with it."),
            _("This cannot be undone; you can create a new level with the same name later.")]
    return confirmation(
        title=_("Delete level %(name)s?", name=name),
        subject=_("%(name)s, from %(points)s lifetime points", name=name,
                  points=format_decimal(what.level.min_points)),
        consequences=said, button=_("Delete level"), cancel_url=back)
