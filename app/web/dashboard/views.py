from __future__ import annotations

from flask import render_template

from app.services import dashboard as dashboard_service
from app.services.permissions import VIEW
from app.web.dashboard import bp, chart
from app.web.tenancy import TenantContext, tenant_view


@bp.route("/t/<slug>/")
@tenant_view(VIEW)
def index(tc: TenantContext):
    board = dashboard_service.page(tc.tenant.id)
    return render_template("dashboard/index.html", board=board, chart=chart.build(board.daily))
