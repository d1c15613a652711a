"""Nothing of one tenant is visible to, or changeable by, another: each service
is called from `tenant` with `other_tenant`'s identifiers, and the other tenant's
rows must be exactly as they were."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from app.extensions import db
from app.services import (
    api_clients, consequences, ledger, levels, lookup, member_card, members, staff, vip,
)
from app.services.errors import DomainError
from tests.ledger_invariants import assert_consistent

TABLES = ("members", "point_transactions", "point_lots", "levels", "vip_tags", "member_tags",
          "staff_memberships", "api_clients", "idempotency_records", "member_notes")


def rows_of(tenant_id: int) -> dict[str, list]:
    return {t: [tuple(r) for r in db.session.execute(
        text(f"SELECT * FROM {t} WHERE tenant_id = :t ORDER BY id"), {"t": tenant_id})]
        for t in TABLES}


@pytest.fixture
def theirs(other_tenant, make_member, make_staff, actor):
    """The other tenant, with one of everything; `shared` exists in both tenants."""
    make_member(other_tenant, "shared")
    make_member(other_tenant, "only-theirs", email="theirs@example.com", phone="13800000000")
    note = member_card.add_note(other_tenant.id, actor, "only-theirs", "their note")
    earned = ledger.earn(other_tenant.id, actor, user_id="only-theirs", points_amount=100,
                         category="login")
    spent = ledger.spend(other_tenant.id, actor, user_id="only-theirs", points_amount=10,
                         category="payment")
    level = levels.create(other_tenant.id, actor, level_name="Their level", min_points=0)
    tag = vip.create_tag(other_tenant.id, actor, tag_name="Their tag", tag_type="vip", rank=1,
                         duration_days=10, points_price=5)
    [holding] = vip.grant(other_tenant.id, actor, user_id="only-theirs", tag_id=tag.id)
    person = make_staff(other_tenant, "support")
    client = api_clients.create(other_tenant.id, actor, name="Their client",
                                permissions="can_view_points").client
    return {"earn": earned.transaction.id, "spend": spent.transaction.id, "level": level.id,
            "tag": tag.id, "holding": holding.holding_id, "staff": person.id,
            "client": client.id, "note": note.id,
            "member": members.locate(other_tenant.id, "only-theirs").id}


@pytest.fixture
def mine(tenant, make_member, actor):
    make_member(tenant, "shared")
    ledger.earn(tenant.id, actor, user_id="shared", points_amount=10, category="login")


def attempts(tenant, actor, ids):
    t = tenant.id
    yield "MEMBER_NOT_FOUND", lambda: members.get_profile(t, "only-theirs")
    yield "MEMBER_NOT_FOUND", lambda: members.set_points_enabled(t, actor, "only-theirs", False)
    yield "MEMBER_NOT_FOUND", lambda: ledger.transactions_page(t, "only-theirs")
    yield "MEMBER_NOT_FOUND", lambda: ledger.earn(t, actor, user_id="only-theirs",
                                                  points_amount=5, category="login")
    yield "MEMBER_NOT_FOUND", lambda: ledger.spend(t, actor, user_id="only-theirs",
                                                   points_amount=5, category="login")
    yield "MEMBER_NOT_FOUND", lambda: ledger.adjust(t, actor, user_id="only-theirs",
                                                    points_amount=-5, reason="x")
    yield "VALIDATION_ERROR", lambda: ledger.batch_earn(t, actor, [
        ledger.EarnItem("shared", 1, "login"), ledger.EarnItem("only-theirs", 1, "login")])
    for tx in ("earn", "spend"):
        yield "NOT_FOUND", lambda tx=tx: ledger.reverse(t, actor, ids[tx], reason="x")
    yield "NOT_FOUND", lambda: levels.update_level(t, actor, ids["level"], level_name="x",
                                                   min_points=3)
    yield "NOT_FOUND", lambda: levels.delete(t, actor, ids["level"])
    yield "NOT_FOUND", lambda: vip.get_tag(t, ids["tag"])
    yield "NOT_FOUND", lambda: vip.update_tag(t, actor, ids["tag"], tag_name="x", tag_type="vip",
                                              rank=1, duration_days=1)
    yield "NOT_FOUND", lambda: vip.delete_tag(t, actor, ids["tag"])
    yield "NOT_FOUND", lambda: vip.grant(t, actor, user_id="shared", tag_id=ids["tag"])
    yield "NOT_FOUND", lambda: vip.preview_conflict(t, "shared", ids["tag"])
    yield "NOT_FOUND", lambda: vip.end_holding(t, actor, "shared", ids["holding"])
    yield "MEMBER_NOT_FOUND", lambda: vip.end_holding(t, actor, "only-theirs", ids["holding"])
    yield "NOT_FOUND", lambda: staff.change_role(t, actor, ids["staff"], "owner")
    yield "NOT_FOUND", lambda: staff.deactivate(t, actor, ids["staff"])
    yield "NOT_FOUND", lambda: api_clients.get(t, ids["client"])
    yield "NOT_FOUND", lambda: api_clients.revoke(t, actor, ids["client"])
    yield "MEMBER_NOT_FOUND", lambda: member_card.update_details(
        t, actor, "only-theirs", display_name="x", email=None, phone=None)
    yield "MEMBER_NOT_FOUND", lambda: member_card.add_note(t, actor, "only-theirs", "mine")
    # What a confirmation page would say about another tenant's object: nothing.
    for tx in ("earn", "spend"):
        yield "NOT_FOUND", lambda tx=tx: ledger.preview_reversal(t, ids[tx])
    yield "NOT_FOUND", lambda: consequences.level_deletion(t, ids["level"])
    yield "NOT_FOUND", lambda: consequences.tag_deletion(t, ids["tag"])
    yield "NOT_FOUND", lambda: consequences.access_removal(t, ids["staff"])
    yield "NOT_FOUND", lambda: consequences.client_revocation(t, ids["client"])


def test_no_service_reaches_another_tenants_objects(tenant, other_tenant, theirs, mine, actor):
    before = rows_of(other_tenant.id)
    for index, (code, attempt) in enumerate(attempts(tenant, actor, theirs)):
        with pytest.raises(DomainError) as info:
            attempt()
        assert info.value.code == code, (index, info.value.code)
        db.session.rollback()
    assert rows_of(other_tenant.id) == before
    assert_consistent()


def test_reads_show_only_the_tenants_own_objects(tenant, other_tenant, theirs, mine, actor):
    assert [p.user_id for p in members.search(tenant.id).items] == ["shared"]
    assert members.search(tenant.id, q="only").items == []
    assert members.search(tenant.id, q="138 0000 0000").items == []
    assert members.search(tenant.id, q="theirs@example.com").items == []
    assert members.count(tenant.id, q="13800000000") == 0
    assert member_card.notes(tenant.id, theirs["member"]) == []
    assert members.search(tenant.id, level_id=theirs["level"]).items == []
    assert members.search(tenant.id, tag_id=theirs["tag"]).items == []
    assert [t.points_amount for t in ledger.transactions_page(tenant.id, "shared").items] == [10]
    assert ledger.transactions_page(other_tenant.id, "shared").items == []
    assert levels.list_levels(tenant.id) == []
    assert vip.list_tags(tenant.id, include_inactive=True) == []
    assert staff.list_staff(tenant.id) == []
    assert api_clients.list_clients(tenant.id) == []
    for query in (str(theirs["earn"]), str(theirs["spend"])):  # their ids find nothing here
        assert lookup.find(tenant.id, query).transactions == []
    assert members.get_profile(tenant.id, "shared").total_points == 10
    assert members.get_profile(other_tenant.id, "shared").total_points == 0


def test_the_same_user_id_in_two_tenants_is_two_members(tenant, other_tenant, theirs, mine,
                                                        actor):
    ledger.earn(other_tenant.id, actor, user_id="shared", points_amount=7, category="login")
    members.set_points_enabled(tenant.id, actor, "shared", False)
    assert members.get_profile(other_tenant.id, "shared").is_points_enabled is True
    assert ledger.spend(other_tenant.id, actor, user_id="shared", points_amount=7,
                        category="payment").profile.total_points == 0
    assert members.get_profile(tenant.id, "shared").total_points == 10
    assert_consistent()
