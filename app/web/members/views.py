"""Members: the searchable list and a member's page (the CSV export: export_views)."""
from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _

from app.services import ledger, levels, member_card, members, programme, vip
from app.services.errors import ValidationFailed
from app.services.permissions import ADJUST, EARN, MANAGE, SPEND, VIEW
from app.web.members import bp
from app.web.members.card_forms import NoteForm
from app.web.members.forms import (
    AdjustForm, EarnForm, HistoryFilterForm, SearchForm, SpendForm,
)
from app.web.render import is_partial
from app.web.tenancy import TenantContext, tenant_view

PAGE_SIZE = 25


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def _search_form(tc: TenantContext) -> SearchForm:
    form = SearchForm(request.args)
    form.level.choices = {"": _("All levels")} | {
        str(lv.id): lv.level_name for lv in levels.list_levels(tc.tenant.id)}
    form.tag.choices = {"": _("All tags")} | {
        str(t.id): t.tag_name for t in vip.list_tags(tc.tenant.id, include_inactive=True)}
    return form


def _filters(form: SearchForm) -> dict[str, Any]:
    return {"q": (form.q.data or "").strip() or None, "level_id": _int_or_none(form.level.data),
            "tag_id": _int_or_none(form.tag.data)}


@bp.route("/t/<slug>/members/")
@tenant_view(VIEW)
def index(tc: TenantContext):
    form = _search_form(tc)
    filters = _filters(form)
    error = None
    try:
        page = members.search(tc.tenant.id, cursor=form.cursor.data or None,
                              page_size=PAGE_SIZE, **filters)
    except ValidationFailed as exc:  # a hand-edited cursor
        page, error = members.Page([], None, PAGE_SIZE), exc.text()
    args = {k: v for k, v in (("q", form.q.data), ("level", form.level.data),
                              ("tag", form.tag.data)) if v}
    # How many matched, said above the first page of a search (a plain list is not counted).
    matched = members.count(tc.tenant.id, **filters) if (
        error is None and not form.cursor.data and any(v is not None for v in filters.values())
    ) else None
    context = dict(form=form, page=page, args=args, error=error, matched=matched,
                   first_page=not form.cursor.data)
    if is_partial():
        return render_template("members/_rows.html", **context)
    return render_template("members/index.html", **context)


# --------------------------------------------------------------------------- one member

def history_form_and_page(tc: TenantContext, member: members.Profile | members.MemberRecord,
                 form: HistoryFilterForm | None = None) -> tuple[HistoryFilterForm, members.Page]:
    """The history filter form and one page of a found member's history."""
    form = form or HistoryFilterForm(request.args)
    try:
        page = ledger.member_transactions_page(
            tc.tenant.id, member.id, member.user_id, cursor=form.cursor.data or None,
            page_size=PAGE_SIZE, kind=form.kind.data or None,
            category=form.category.data or None)
    except ValidationFailed:
        page = ledger.member_transactions_page(tc.tenant.id, member.id, member.user_id, page_size=PAGE_SIZE)
    return form, page


def member_context(tc: TenantContext, user_id: str, **forms: Any) -> dict[str, Any]:
    """Everything the member page shows; `forms` replaces a fresh form by one being
    corrected."""
    from app.web.vip.forms import grant_form

    profile = members.get_profile(tc.tenant.id, user_id)
    history_form, page = history_form_and_page(tc, profile)
    fresh: dict[str, Any] = {}
    if tc.can(EARN):
        fresh["earn"] = EarnForm(formdata=None)
    if tc.can(SPEND):
        fresh["spend"] = SpendForm(formdata=None)
    if tc.can(ADJUST):
        fresh["adjust"] = AdjustForm(formdata=None)
    fresh.update({k: v for k, v in forms.items() if k in fresh})
    grant = forms.get("vip") or (grant_form(tc) if tc.can(ADJUST) else None)
    card = dict(
        notes=member_card.notes(tc.tenant.id, profile.id) if profile.has_notes else [],
        note_form=forms.get("note") or (NoteForm(formdata=None) if tc.can(ADJUST) else None),
        can_switch=tc.can(MANAGE),  # the switch's form is two fixed hidden inputs
        switch_error=forms.get("switch_error"))
    return dict(card, profile=profile, history_form=history_form, page=page,
                events=programme.recent_for_member(tc.tenant.id, profile.id)
                if profile.has_events else [], forms=fresh,
                vip_form=grant, vip_partial=forms.get("vip_partial"),
                vip_context=forms.get("vip_context", {}))


@bp.route("/t/<slug>/members/<user_id>/")
@tenant_view(VIEW)
def show(tc: TenantContext, user_id: str):
    if is_partial():  # history paging and filters
        form, page = history_form_and_page(tc, members.locate(tc.tenant.id, user_id))
        return render_template("members/_history_rows.html", page=page, history_form=form,
                               user_id=user_id)
    return render_template("members/show.html", **member_context(tc, user_id))

from app.web.members import card_views, export_views, points_views  # noqa: E402,F401
