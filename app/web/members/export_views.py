"""The members list as CSV: the list's filters, times in ISO 8601 with the
tenant's offset, contact columns only for those who manage the programme, and
every download audited (app/web/csv_export.py)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.services import members, tenants
from app.services.permissions import MANAGE, VIEW
from app.web.csv_export import cell, download, phone_cell
from app.web.formatting import iso_moment
from app.web.members import bp
from app.web.members.views import _filters, _search_form
from app.web.tenancy import TenantContext, tenant_view

EXPORT_PAGE = 100
COLUMNS = ["user_id", "display_name", "email", "phone", "total_points", "lifetime_points",
           "level", "tags", "points_enabled", "created_at"]
CONTACT_COLUMNS = ("email", "phone")


def columns_for(tc: TenantContext) -> list[str]:
    if tc.can(MANAGE):
        return list(COLUMNS)
    return [c for c in COLUMNS if c not in CONTACT_COLUMNS]


def _row(p: members.Profile, columns: list[str], zone: Any) -> list[Any]:
    values = {
        "user_id": cell(p.user_id), "display_name": cell(p.display_name),
        "email": cell(p.email or ""), "phone": phone_cell(p.phone),
        "total_points": p.total_points, "lifetime_points": p.lifetime_points,
        "level": cell(p.level.level_name if p.level else ""),
        "tags": cell(";".join(t.tag_name for t in p.tags)),
        "points_enabled": "yes" if p.is_points_enabled else "no",
        "created_at": iso_moment(p.created_at, zone),
    }
    return [values[c] for c in columns]


@bp.route("/t/<slug>/members/export.csv")
@tenant_view(VIEW)
def export(tc: TenantContext):
    filters = _filters(_search_form(tc))
    tenant_id, zone, columns = tc.tenant.id, tenants.zone(tc.tenant), columns_for(tc)
    # The first page before streaming: a refused filter is an error page, not a cut download.
    first = members.search(tenant_id, page_size=EXPORT_PAGE, **filters)

    def pages() -> Iterator[list[list[Any]]]:
        page = first
        while True:
            yield [_row(p, columns, zone) for p in page.items]
            if not page.next_cursor:
                return
            page = members.search(tenant_id, cursor=page.next_cursor, page_size=EXPORT_PAGE,
                                  **filters)

    return download(tc, "members", f"{tc.slug}-members.csv", filters=filters, header=columns,
                    pages=pages())
