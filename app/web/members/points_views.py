"""Changing a member's points: earn, spend, adjust, reverse.

With htmx, a success answers with a fresh form and out-of-band swaps of the
balance card and the history; a refusal answers with the form, what was typed
kept and the reason shown (422). Without JavaScript the same routes redirect
to the member page after a success and show it with the form's errors after a
refusal.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _

from app.services import ledger, members, transactions
from app.services.errors import DomainError
from app.services.permissions import ADJUST, EARN, SPEND
from app.web.context import actor
from app.web.members import bp
from app.web.members.forms import AdjustForm, EarnForm, ReverseForm, SpendForm
from app.web.members.views import history_form_and_page, member_context
from app.web.render import is_partial, once, refuse
from app.web.tenancy import TenantContext, tenant_view


def _points_fields(form: Any) -> dict[str, Any]:
    return {"points_amount": form.points_amount.data, "category": form.category.data,
            "reason": form.reason.data or ""}


OPS: dict[str, tuple[type, Callable[..., ledger.Outcome], Callable[[Any], dict[str, Any]]]] = {
    "earn": (EarnForm, ledger.earn, _points_fields),
    "spend": (SpendForm, ledger.spend, _points_fields),
    "adjust": (AdjustForm, ledger.adjust, _points_fields),
}


def _done_message(outcome: ledger.Outcome | None, profile: members.Profile) -> str:
    if outcome is None:  # a repeated submit of a form that already worked
        return _("Already done. Balance: %(balance)s.", balance=format_decimal(profile.total_points))
    amount = outcome.transaction.points_amount
    return _("%(points)s points. New balance: %(balance)s.",
             points=("+" if amount > 0 else "−") + format_decimal(abs(amount)),
             balance=format_decimal(outcome.profile.total_points))


def _change(tc: TenantContext, user_id: str, op: str):
    members.locate(tc.tenant.id, user_id)  # another tenant's member: 404 before anything
    form_class, service, fields = OPS[op]
    form = form_class()
    status = 422
    if form.validate_on_submit():
        result: dict[str, ledger.Outcome] = {}

        def operation() -> dict[str, Any]:
            outcome = service(tc.tenant.id, actor(), user_id=user_id,
                              idempotency_key=form.idempotency_key.data, **fields(form))
            result["outcome"] = outcome
            return {"transaction_id": outcome.transaction.id}

        try:
            once(tc.tenant.id, form.idempotency_key.data, form, operation)
        except DomainError as exc:
            if exc.status == 404:
                raise
            status = refuse(form, exc)
        else:
            return _changed(tc, user_id, op, result.get("outcome"))
    if is_partial():
        profile = members.get_profile(tc.tenant.id, user_id)
        return render_template("members/_points_form.html", op=op, form=form,
                               profile=profile), status
    return render_template("members/show.html", **member_context(tc, user_id, **{op: form})), status


def _changed(tc: TenantContext, user_id: str, op: str, outcome: ledger.Outcome | None):
    profile = outcome.profile if outcome else members.get_profile(tc.tenant.id, user_id)
    message = _done_message(outcome, profile)
    if not is_partial():
        flash(message)
        return redirect(url_for("members.show", user_id=user_id))
    context: dict[str, Any] = dict(op=op, form=OPS[op][0](formdata=None), profile=profile,
                                   message=message, new_row=outcome.transaction if outcome else None)
    if outcome is None:
        _form, page = history_form_and_page(tc, profile)
        context.update(page=page)
    return render_template("members/_changed.html", **context)


@bp.route("/t/<slug>/members/<user_id>/earn", methods=["POST"])
@tenant_view(EARN)
def earn(tc: TenantContext, user_id: str):
    return _change(tc, user_id, "earn")


@bp.route("/t/<slug>/members/<user_id>/spend", methods=["POST"])
@tenant_view(SPEND)
def spend(tc: TenantContext, user_id: str):
    return _change(tc, user_id, "spend")


@bp.route("/t/<slug>/members/<user_id>/adjust", methods=["POST"])
@tenant_view(ADJUST)
def adjust(tc: TenantContext, user_id: str):
    return _change(tc, user_id, "adjust")


# --------------------------------------------------------------------------- reversal

@bp.route("/t/<slug>/members/<user_id>/transactions/<int:tx_id>/reverse",
          methods=["GET", "POST"])
@tenant_view(ADJUST)
def reverse(tc: TenantContext, user_id: str, tx_id: int):
    """A confirmation step first (GET), then the reversal (POST)."""
    tx = transactions.of_member(tc.tenant.id, user_id, tx_id)
    form = ReverseForm()
    status = 200
    if form.validate_on_submit():
        try:
            once(tc.tenant.id, form.idempotency_key.data, form, lambda: {
                "transaction_id": ledger.reverse(
                    tc.tenant.id, actor(), tx_id, reason=form.reason.data or "",
                    idempotency_key=form.idempotency_key.data).transaction.id})
        except DomainError as exc:
            if exc.status == 404:
                raise
            status = refuse(form, exc)
        else:
            profile = members.get_profile(tc.tenant.id, user_id)
            message = _("Transaction %(id)s reversed. New balance: %(balance)s.", id=tx_id,
                        balance=format_decimal(profile.total_points))
            if not is_partial():
                flash(message)
                return redirect(url_for("members.show", user_id=user_id))
            _form, page = history_form_and_page(tc, profile)
            return render_template("members/_reversed.html", profile=profile, page=page,
                                   message=message)
    elif form.is_submitted():
        status = 422
    context = dict(tx=tx, form=form, user_id=user_id, **_reversal_preview(tc, tx_id))
    if is_partial():
        return render_template("members/_reverse.html", **context), status
    return render_template("members/reverse.html", **context), status


def _reversal_preview(tc: TenantContext, tx_id: int) -> dict[str, Any]:
    """What the reversal would do, or why it cannot be done, for the confirmation."""
    try:
        preview = ledger.preview_reversal(tc.tenant.id, tx_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return {"preview": None, "refusal": exc.text()}
    balance = members.get_profile(tc.tenant.id, preview.user_id).total_points
    return {"preview": preview, "refusal": None, "balance": balance,
            "balance_after": balance + preview.points}


@bp.route("/t/<slug>/members/<user_id>/reverse-panel")
@tenant_view(ADJUST)
def reverse_cancel(tc: TenantContext, user_id: str):
    """Closing the confirmation empties its panel (htmx) or goes back to the member."""
    members.locate(tc.tenant.id, user_id)
    if is_partial():
        return '<div id="reverse-panel"></div>'
    return redirect(url_for("members.show", user_id=user_id))
