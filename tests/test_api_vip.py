"""The VIP catalogue and grants, with conflicts and their resolutions."""
from __future__ import annotations

import pytest

from app.services import ledger, members
from tests.api_fixtures import (
    API_ACTOR, assert_error, assert_ledger_consistent, assert_success, ledger_state,
)

TAGS = "/api/v1/vip/tags/"


def grant_path(user_id: str = "alice") -> str:
    return f"/api/v1/points/profiles/{user_id}/vip-tags/"


def test_it_lists_the_catalogue(full, programme):
    data = assert_success(full.get(TAGS))
    assert data == [
        {"id": programme["silver"].id, "tag_name": "VIP Silver", "tag_type": "vip", "rank": 1,
         "duration_days": 30, "points_price": 500},
        {"id": programme["gold"].id, "tag_name": "VIP Gold", "tag_type": "vip", "rank": 2,
         "duration_days": 30, "points_price": None},
    ]


def test_another_tenants_catalogue_is_its_own(outsider, programme):
    assert [t["tag_name"] for t in assert_success(outsider.get(TAGS))] == ["Other"]


def test_it_grants_a_tag(full, programme):
    data = assert_success(full.post(grant_path(), json={"tag_id": programme["silver"].id}), 201)
    assert len(data) == 1
    assert set(data[0]) == {"id", "tag_name", "tag_type", "rank", "expires_at"}
    assert data[0]["id"] == programme["silver"].id and data[0]["tag_name"] == "VIP Silver"
    profile = assert_success(full.get("/api/v1/points/profiles/alice/"))
    assert profile["tags"] == data


def test_a_second_tag_of_a_type_is_a_conflict_with_its_options(full, programme):
    held = assert_success(full.post(grant_path(), json={"tag_id": programme["silver"].id}), 201)
    before = ledger_state()
    details = assert_error(full.post(grant_path(), json={"tag_id": programme["gold"].id}), 409,
                           "VIP_TAG_CONFLICT")
    assert details == {
        "existing_tag": {"id": programme["silver"].id, "tag_name": "VIP Silver",
                         "expires_at": held[0]["expires_at"]},
        "requested_tag": {"id": programme["gold"].id, "tag_name": "VIP Gold"},
        "resolution_options": ["upgrade_existing", "extend_existing", "replace_existing"],
    }
    assert ledger_state() == before


def test_a_downgrade_offers_no_upgrade(full, programme):
    assert_success(full.post(grant_path(), json={"tag_id": programme["gold"].id}), 201)
    details = assert_error(full.post(grant_path(), json={"tag_id": programme["silver"].id}), 409,
                           "VIP_TAG_CONFLICT")
    assert details["resolution_options"] == ["extend_existing", "replace_existing"]
    invalid = assert_error(full.post(grant_path(), json={"tag_id": programme["silver"].id,
                                                         "resolution": "upgrade_existing"}),
                           422, "VALIDATION_ERROR")
    assert "resolution" in invalid["field_errors"]


@pytest.mark.parametrize("resolution, expected", [
    ("upgrade_existing", "VIP Gold"), ("extend_existing", "VIP Silver"),
    ("replace_existing", "VIP Gold"),
])
def test_it_resolves_a_conflict(full, programme, resolution, expected):
    assert_success(full.post(grant_path(), json={"tag_id": programme["silver"].id}), 201)
    data = assert_success(full.post(grant_path(), json={"tag_id": programme["gold"].id,
                                                        "resolution": resolution}), 201)
    assert [t["tag_name"] for t in data] == [expected]


def test_it_pays_a_tag_with_points(full, programme, tenant):
    ledger.earn(tenant.id, API_ACTOR, user_id="alice", points_amount=600, category="login")
    assert_success(full.post(grant_path(), json={"tag_id": programme["silver"].id,
                                                 "pay_with_points": True}), 201)
    history = assert_success(full.get("/api/v1/points/profiles/alice/transactions/"), paged=True)
    assert history[0]["category"] == "vip_upgrade" and history[0]["points_amount"] == -500
    assert_ledger_consistent()


def test_paying_without_enough_points_grants_nothing(full, programme):
    before = ledger_state()
    details = assert_error(full.post(grant_path(), json={"tag_id": programme["silver"].id,
                                                         "pay_with_points": True}),
                           422, "INSUFFICIENT_POINTS")
    assert details["shortage"] == 500
    assert ledger_state() == before
    assert assert_success(full.get("/api/v1/points/profiles/alice/"))["tags"] == []


def test_paying_for_a_disabled_member_is_refused(full, programme, tenant):
    members.set_points_enabled(tenant.id, API_ACTOR, "bob", False)
    assert_error(full.post(grant_path("bob"), json={"tag_id": programme["silver"].id,
                                                    "pay_with_points": True}),
                 422, "POINTS_DISABLED")


def test_unknown_and_foreign_tags_and_members_are_not_found(full, outsider, programme):
    before = ledger_state()
    assert_error(full.post(grant_path(), json={"tag_id": programme["other_tag"].id}), 404,
                 "NOT_FOUND")
    assert_error(full.post(grant_path(), json={"tag_id": 999999}), 404, "NOT_FOUND")
    assert_error(full.post(grant_path("nobody"), json={"tag_id": programme["silver"].id}), 404,
                 "MEMBER_NOT_FOUND")
    assert_error(outsider.post(grant_path("alice"), json={"tag_id": programme["other_tag"].id}),
                 404, "MEMBER_NOT_FOUND")
    assert ledger_state() == before


@pytest.mark.parametrize("body, field", [
    ({}, "tag_id"), ({"tag_id": "1"}, "tag_id"), ({"tag_id": True}, "tag_id"),
    ({"tag_id": 1.0}, "tag_id"), ({"tag_id": 1, "resolution": "merge"}, "resolution"),
    ({"tag_id": 1, "pay_with_points": "yes"}, "pay_with_points"),
    ({"tag_id": 1, "pay_with_points": None}, "pay_with_points"),
])
def test_it_validates_a_grant(full, programme, body, field):
    details = assert_error(full.post(grant_path(), json=body), 422, "VALIDATION_ERROR")
    assert field in details["field_errors"]
