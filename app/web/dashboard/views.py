from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import request

from app.services import clock, dashboard_lists, tenants
from app.services import dashboard as dashboard_service
from app.services.errors import ValidationFailed
from app.services.permissions import VIEW
from app.web.dashboard import bp, chart
from app.web.render import page
from app.web.tenancy import TenantContext, tenant_view

DEFAULT_CHART_DAYS = 30
EXPIRING_PAGE = 50


def chart_days() -> int:
    """The chart's period from the URL (`?days=7|30|90`), so a view can be shared;
    anything else is the default."""
    value = request.args.get("days", "")
    return int(value) if value.isdigit() and int(value) in dashboard_service.CHART_DAYS \
        else DEFAULT_CHART_DAYS


@bp.route("/t/<slug>/")
@tenant_view(VIEW)
def index(tc: TenantContext):
    board = dashboard_service.page(tc.tenant.id)
    days = chart_days()
    shown = board.daily[-days:]
    # htmx asks for the chart alone when another period is chosen.
    return page("dashboard/index.html", "dashboard/_chart.html", board=board, days=days,
                shown=shown, chart=chart.build(shown), choices=dashboard_service.CHART_DAYS,
                day_start=_utc_midnight_locally(tc))


def _utc_midnight_locally(tc: TenantContext) -> str | None:
    """The days are UTC days (the roll-up stores them so): when UTC midnight is
    in the tenant's zone today ('08:00' in Shanghai); None in a UTC tenant."""
    midnight = datetime.combine(clock.now().date(), time.min, tzinfo=UTC)
    local = midnight.astimezone(tenants.zone(tc.tenant))
    return None if local.utcoffset() == timedelta(0) else local.strftime("%H:%M")


@bp.route("/t/<slug>/expiring-points/")
@tenant_view(VIEW)
def expiring(tc: TenantContext):
    cursor = request.args.get("cursor") or None
    error = None
    try:
        result = dashboard_lists.expiring_lots_page(tc.tenant.id, clock.now(), cursor=cursor,
                                                    page_size=EXPIRING_PAGE)
    except ValidationFailed as exc:  # a hand-edited cursor
        result, error = dashboard_lists.Page([], None, EXPIRING_PAGE), exc.text()
    return page("dashboard/expiring.html", "dashboard/_expiring_rows.html",
                400 if error else 200, result=result, error=error, first_page=cursor is None,
                window_days=dashboard_lists.EXPIRING_POINTS_DAYS)
