"""Webhook endpoints of the token's tenant (CONTRACT.md, "Webhooks and
background work")."""
from __future__ import annotations

from typing import Any

from flask import Response, request

from app import envelope
from app.api import bp, parsing, writes
from app.api.auth import actor, principal, requires
from app.api.profiles import page_info
from app.services import members, permissions
from app.services.webhooks import endpoints

CREATE_FIELDS = ("url", "event_types", "description")


@bp.get("/v1/webhooks/endpoints/")
@requires(permissions.MANAGE)
def list_endpoints() -> Response:
    return envelope.success([e.as_dict() for e in endpoints.list_endpoints(principal().tenant_id)])


@bp.post("/v1/webhooks/endpoints/")
@requires(permissions.MANAGE)
def create_endpoint() -> Response:
    body = parsing.json_object(CREATE_FIELDS)
    return writes.perform(body, lambda _key: (201, endpoints.create(
        principal().tenant_id, actor(), **{n: body.get(n) for n in CREATE_FIELDS}).as_dict()))


@bp.delete("/v1/webhooks/endpoints/<int:endpoint_id>/")
@requires(permissions.MANAGE)
def delete_endpoint(endpoint_id: int) -> Response:
    def produce(_key: str | None) -> tuple[int, Any]:
        endpoints.delete(principal().tenant_id, actor(), endpoint_id)
        return 200, {"id": endpoint_id, "deleted": True}

    return writes.perform({}, produce)


@bp.get("/v1/webhooks/endpoints/<int:endpoint_id>/deliveries/")
@requires(permissions.MANAGE, query=("page_size", "cursor"))
def deliveries(endpoint_id: int) -> Response:
    page = endpoints.deliveries(principal().tenant_id, endpoint_id,
                                cursor=request.args.get("cursor"),
                                page_size=members.check_page_size(request.args.get("page_size")))
    return envelope.success([d.as_dict() for d in page.items], page_info=page_info(page))
