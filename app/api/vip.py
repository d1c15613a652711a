"""The tenant's VIP tag catalogue."""
from __future__ import annotations

from flask import Response

from app import envelope
from app.api import bp
from app.api.auth import principal, requires
from app.services import permissions
from app.services import vip as vip_service


@bp.get("/v1/vip/tags/")
@requires(permissions.VIEW)
def tags() -> Response:
    return envelope.success([t.as_dict() for t in vip_service.list_tags(principal().tenant_id)])
