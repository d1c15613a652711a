"""Members (profiles), their history, their VIP tags, and the levels."""
from __future__ import annotations

from typing import Any

from flask import Response, url_for

from app import envelope
from app.api import bp, parsing, serializers, writes
from app.api.auth import actor, principal, requires
from app.services import levels, members, permissions, vip
from app.services import ledger

CREATE_FIELDS = ("user_id", "display_name", "email", "phone")
GRANT_FIELDS = ("tag_id", "resolution", "pay_with_points")


def page_info(page: members.Page) -> dict[str, Any]:
    return {"has_next": page.has_next, "next_cursor": page.next_cursor,
            "page_size": page.page_size}


@bp.get("/v1/points/user-levels/")
@requires(permissions.VIEW)
def user_levels() -> Response:
    return envelope.success([lv.as_dict() for lv in levels.list_levels(principal().tenant_id)])


@bp.get("/v1/points/profiles/")
@requires(permissions.VIEW, query=("page_size", "cursor", "fields", "q", "level"))
def list_profiles() -> Response:
    fields = parsing.query_fields(serializers.PROFILE_FIELDS)
    page = members.search(
        principal().tenant_id, q=parsing.query_text("q"), level_id=parsing.query_int("level"),
        cursor=parsing.query_value("cursor"), page_size=parsing.query_page_size(),
    )
    return envelope.success([serializers.profile(p, fields) for p in page.items],
                            page_info=page_info(page))


@bp.post("/v1/points/profiles/")
@requires(permissions.MANAGE)
def create_profile() -> Response:
    body = parsing.json_object(CREATE_FIELDS)

    def produce(_key: str | None) -> tuple[int, Any]:
        profile = members.create(principal().tenant_id, actor(),
                                 **{name: body.get(name) for name in CREATE_FIELDS})
        return 201, serializers.profile(profile)

    location = None
    if isinstance(body.get("user_id"), str):
        location = url_for("api.get_profile", user_id=body["user_id"])
    return writes.perform(body, produce, headers={"Location": location} if location else None)


@bp.get("/v1/points/profiles/<user_id>/")
@requires(permissions.VIEW, query=("fields",))
def get_profile(user_id: str) -> Response:
    fields = parsing.query_fields(serializers.PROFILE_FIELDS)
    profile = members.get_profile(principal().tenant_id, user_id)
    return envelope.success(serializers.profile(profile, fields))


@bp.get("/v1/points/profiles/<user_id>/transactions/")
@requires(permissions.VIEW, query=("page_size", "cursor", "kind", "category"))
def transactions(user_id: str) -> Response:
    page = ledger.transactions_page(
        principal().tenant_id, user_id, cursor=parsing.query_value("cursor"),
        page_size=parsing.query_page_size(),
        kind=parsing.query_text("kind", 16), category=parsing.query_text("category", 32),
    )
    return envelope.success([serializers.transaction(t) for t in page.items],
                            page_info=page_info(page))


@bp.post("/v1/points/profiles/<user_id>/vip-tags/")
@requires(permissions.ADJUST)
def grant_vip_tag(user_id: str) -> Response:
    body = parsing.json_object(GRANT_FIELDS)

    def produce(key: str | None) -> tuple[int, Any]:
        holdings = vip.grant(principal().tenant_id, actor(), user_id=user_id,
                             tag_id=body.get("tag_id"), resolution=body.get("resolution"),
                             pay_with_points=body.get("pay_with_points", False),
                             idempotency_key=key)
        return 201, [serializers.tag_holding(h) for h in holdings]

    return writes.perform(body, produce)
