"""Finding a transaction from anything a caller quotes (the box under the
navigation of every programme page): straight to the member's history at that
row when one transaction matches; a list to choose from when several do; a
clear message when none does."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from app.services import lookup, members
from app.services.permissions import VIEW
from app.web.members import bp
from app.web.tenancy import TenantContext, tenant_view


def history_at(user_id: str, transaction_id: int) -> str:
    """The member's page with the history starting at this transaction, marked."""
    return url_for("members.show", user_id=user_id,
                   cursor=members.encode_cursor(transaction_id + 1), found=transaction_id,
                   _anchor=f"tx-{transaction_id}")


@bp.route("/t/<slug>/find-transaction")
@tenant_view(VIEW)
def find_transaction(tc: TenantContext):
    query = request.args.get("q", "")
    result = lookup.find(tc.tenant.id, query)
    one = result.only_transaction
    if one is not None:
        return redirect(history_at(one.user_id, one.id), 303)
    if not result.transactions and len(result.events) == 1:  # awards still pending
        return redirect(url_for("programme.event", event_id=result.events[0].event_id), 303)
    return render_template("members/find_transaction.html", result=result,
                           too_long=len(result.query) > lookup.QUERY_MAX, query_max=lookup.QUERY_MAX,
                           history_at=history_at)
