"""VIP tags: the catalogue, grants, the three conflict resolutions, payment with points."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, MemberTag, PointTransaction
from app.services import ledger, members, vip
from tests.ledger_helpers import T0, count, refused
from tests.ledger_invariants import assert_consistent


@pytest.fixture
def tags(tenant, actor, clk):
    return {
        "silver": vip.create_tag(tenant.id, actor, tag_name="Silver", tag_type="vip", rank=1,
                                 duration_days=90, points_price=200),
        "gold": vip.create_tag(tenant.id, actor, tag_name="Gold", tag_type="vip", rank=2,
                               duration_days=30, points_price=500),
        "bronze": vip.create_tag(tenant.id, actor, tag_name="Bronze", tag_type="vip", rank=0,
                                 duration_days=10),
        "beta": vip.create_tag(tenant.id, actor, tag_name="Beta", tag_type="beta", rank=1,
                               duration_days=5),
    }


@pytest.fixture
def alice(tenant, make_member, clk):
    return make_member(tenant, "alice")


def grant(tenant, actor, tag, **kw):
    return vip.grant(tenant.id, actor, user_id="alice", tag_id=tag.id, **kw)


def holdings(member_id: int) -> list[MemberTag]:
    db.session.expire_all()
    return list(db.session.execute(select(MemberTag).where(MemberTag.member_id == member_id)
                                   .order_by(MemberTag.id)).scalars())


# --------------------------------------------------------------------------- catalogue

def test_it_lists_the_catalogue_by_type_and_rank(tenant, tags):
    assert [t.tag_name for t in vip.list_tags(tenant.id)] == ["Beta", "Bronze", "Silver", "Gold"]
    assert vip.list_tags(tenant.id)[3].as_dict() == {
        "id": tags["gold"].id, "tag_name": "Gold", "tag_type": "vip", "rank": 2,
        "duration_days": 30, "points_price": 500}


@pytest.mark.parametrize("fields, bad", [
    ({"tag_name": "", "tag_type": "vip", "rank": 1, "duration_days": 1}, "tag_name"),
    ({"tag_name": "Silver", "tag_type": "vip", "rank": 1, "duration_days": 1}, "tag_name"),
    ({"tag_name": "X", "tag_type": "", "rank": 1, "duration_days": 1}, "tag_type"),
    ({"tag_name": "X", "tag_type": "vip", "rank": -1, "duration_days": 1}, "rank"),
    ({"tag_name": "X", "tag_type": "vip", "rank": "1", "duration_days": 1}, "rank"),
    ({"tag_name": "X", "tag_type": "vip", "rank": 1, "duration_days": 0}, "duration_days"),
    ({"tag_name": "X", "tag_type": "vip", "rank": 1, "duration_days": 1.5}, "duration_days"),
    ({"tag_name": "X", "tag_type": "vip", "rank": 1, "duration_days": 1, "points_price": 0},
     "points_price"),
    ({"tag_name": "X", "tag_type": "vip", "rank": 1, "duration_days": 1, "points_price": True},
     "points_price"),
])
def test_it_validates_catalogue_entries(tenant, actor, tags, fields, bad):
    with refused("VALIDATION_ERROR") as info:
        vip.create_tag(tenant.id, actor, **fields)
    assert list(info.value.details["field_errors"]) == [bad]


def test_it_deletes_an_unheld_tag_and_retires_a_held_one(tenant, alice, actor, tags):
    grant(tenant, actor, tags["beta"])
    assert vip.delete_tag(tenant.id, actor, tags["bronze"].id) == "deleted"
    assert vip.delete_tag(tenant.id, actor, tags["beta"].id) == "retired"
    assert [t.tag_name for t in vip.list_tags(tenant.id)] == ["Silver", "Gold"]
    assert "Beta" in [t.tag_name for t in vip.list_tags(tenant.id, include_inactive=True)]
    with refused("NOT_FOUND"):
        vip.grant(tenant.id, actor, user_id="alice", tag_id=tags["beta"].id,
                  resolution="replace_existing")


def test_a_held_tag_cannot_change_type(tenant, alice, actor, tags):
    grant(tenant, actor, tags["beta"])
    with refused("VALIDATION_ERROR"):
        vip.update_tag(tenant.id, actor, tags["beta"].id, tag_name="Beta", tag_type="vip",
                       rank=1, duration_days=5)
    vip.update_tag(tenant.id, actor, tags["beta"].id, tag_name="Beta 2", tag_type="beta", rank=3,
                   duration_days=6)
    assert vip.get_tag(tenant.id, tags["beta"].id).tag_name == "Beta 2"


# --------------------------------------------------------------------------- grants

def test_a_first_grant_runs_for_the_tags_duration(tenant, alice, actor, tags):
    held = grant(tenant, actor, tags["silver"])
    assert [(h.tag_name, h.expires_at) for h in held] == [("Silver", T0 + timedelta(days=90))]
    held = grant(tenant, actor, tags["beta"])  # another type: no conflict
    assert sorted(h.tag_name for h in held) == ["Beta", "Silver"]


def test_a_second_tag_of_a_type_is_a_conflict_offering_only_valid_options(tenant, alice, actor,
                                                                            tags):
    grant(tenant, actor, tags["silver"])
    with refused("VIP_TAG_CONFLICT") as info:
        grant(tenant, actor, tags["gold"])
    assert info.value.details == {
        "existing_tag": {"id": tags["silver"].id, "tag_name": "Silver",
                         "expires_at": T0 + timedelta(days=90)},
        "requested_tag": {"id": tags["gold"].id, "tag_name": "Gold"},
        "resolution_options": ["upgrade_existing", "extend_existing", "replace_existing"],
    }
    for lower in (tags["bronze"], tags["silver"]):
        with refused("VIP_TAG_CONFLICT") as info:
            grant(tenant, actor, lower)
        assert info.value.details["resolution_options"] == ["extend_existing", "replace_existing"]


@pytest.mark.parametrize("tag", ["bronze", "silver"])
def test_it_upgrades_only_to_a_higher_rank(tenant, alice, actor, tags, tag):
    grant(tenant, actor, tags["silver"])
    with refused("VALIDATION_ERROR") as info:
        grant(tenant, actor, tags[tag], resolution="upgrade_existing")
    assert info.value.details["resolution_options"] == ["extend_existing", "replace_existing"]


def test_an_upgrade_keeps_the_later_expiry(tenant, alice, actor, tags, clk):
    grant(tenant, actor, tags["silver"])  # until T0 + 90 days; gold lasts 30
    clk.advance(days=10)
    [held] = grant(tenant, actor, tags["gold"], resolution="upgrade_existing")
    assert (held.tag_name, held.expires_at) == ("Gold", T0 + timedelta(days=90))
    old, new = holdings(alice.id)
    assert (old.ended_at, old.end_reason) == (T0 + timedelta(days=10), "upgraded")
    assert new.granted_at == T0 + timedelta(days=10)


def test_an_upgrade_takes_the_new_tags_expiry_when_later(tenant, alice, actor, tags, clk):
    grant(tenant, actor, tags["bronze"])  # 10 days
    clk.advance(days=2)
    [held] = grant(tenant, actor, tags["gold"], resolution="upgrade_existing")
    assert held.expires_at == T0 + timedelta(days=32)


def test_extend_keeps_the_tag_and_adds_the_requested_tags_duration(tenant, alice, actor, tags,
                                                                   clk):
    grant(tenant, actor, tags["silver"])
    clk.advance(days=5)
    [held] = grant(tenant, actor, tags["gold"], resolution="extend_existing")
    assert (held.tag_name, held.expires_at) == ("Silver", T0 + timedelta(days=120))
    assert len(holdings(alice.id)) == 1


def test_replace_ends_the_current_tag_now(tenant, alice, actor, tags, clk):
    grant(tenant, actor, tags["gold"])
    clk.advance(days=3)
    [held] = grant(tenant, actor, tags["bronze"], resolution="replace_existing")
    assert (held.tag_name, held.expires_at) == ("Bronze", T0 + timedelta(days=13))
    old, new = holdings(alice.id)
    assert (old.ended_at, old.end_reason) == (T0 + timedelta(days=3), "replaced")
    assert new.ended_at is None


def test_an_expired_tag_does_not_conflict(tenant, alice, actor, tags, clk):
    grant(tenant, actor, tags["beta"])
    clk.advance(days=5)
    assert members.get_profile(tenant.id, "alice").tags == []
    [held] = grant(tenant, actor, tags["beta"])
    assert held.expires_at == T0 + timedelta(days=10)
    old, _new = holdings(alice.id)
    assert (old.ended_at, old.end_reason) == (T0 + timedelta(days=5), "expired")


def test_the_expiry_job_ends_due_holdings(tenant, alice, actor, tags, clk):
    grant(tenant, actor, tags["beta"])
    grant(tenant, actor, tags["silver"])
    clk.advance(days=6)
    assert vip.expire_tags() == 1
    assert vip.expire_tags() == 0
    assert [h.tag_name for h in members.get_profile(tenant.id, "alice").tags] == ["Silver"]


def test_a_holding_can_be_removed_in_its_own_tenant_only(tenant, other_tenant, make_member,
                                                         alice, actor, tags):
    [held] = grant(tenant, actor, tags["silver"])
    make_member(other_tenant, "alice")
    with refused("NOT_FOUND"):
        vip.end_holding(other_tenant.id, actor, "alice", held.holding_id)
    vip.end_holding(tenant.id, actor, "alice", held.holding_id)
    assert members.get_profile(tenant.id, "alice").tags == []
    with refused("NOT_FOUND"):
        vip.end_holding(tenant.id, actor, "alice", held.holding_id)


@pytest.mark.parametrize("kwargs, field", [
    ({"tag_id": "1"}, "tag_id"), ({"tag_id": None}, "tag_id"), ({"tag_id": True}, "tag_id"),
    ({"resolution": "merge"}, "resolution"), ({"pay_with_points": "yes"}, "pay_with_points"),
])
def test_it_validates_grant_requests(tenant, alice, actor, tags, kwargs, field):
    call = {"tag_id": tags["silver"].id} | kwargs
    with refused("VALIDATION_ERROR") as info:
        vip.grant(tenant.id, actor, user_id="alice", **call)
    assert field in info.value.details["field_errors"]


def test_a_grant_needs_a_member_and_tag_of_this_tenant(tenant, other_tenant, make_member, alice,
                                                       actor, tags):
    make_member(other_tenant, "bob")
    theirs = vip.create_tag(other_tenant.id, actor, tag_name="Theirs", tag_type="vip", rank=1,
                            duration_days=1)
    with refused("NOT_FOUND"):
        vip.grant(tenant.id, actor, user_id="alice", tag_id=theirs.id)
    with refused("MEMBER_NOT_FOUND"):
        vip.grant(tenant.id, actor, user_id="bob", tag_id=tags["silver"].id)
    with refused("NOT_FOUND"):
        vip.update_tag(tenant.id, actor, theirs.id, tag_name="Mine", tag_type="vip", rank=1,
                       duration_days=1)
    with refused("NOT_FOUND"):
        vip.delete_tag(tenant.id, actor, theirs.id)
    assert [t.tag_name for t in vip.list_tags(other_tenant.id)] == ["Theirs"]


# --------------------------------------------------------------------------- payment

def test_it_pays_for_a_tag_with_points_in_the_same_transaction(tenant, alice, actor, tags):
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=600, category="login")
    [held] = grant(tenant, actor, tags["gold"], pay_with_points=True)
    payment = db.session.execute(
        select(PointTransaction).where(PointTransaction.kind == "spend")).scalar_one()
    assert (payment.amount, payment.category, payment.reason) == (-500, "vip_upgrade", "Gold")
    assert holdings(alice.id)[0].payment_transaction_id == payment.id
    profile = members.get_profile(tenant.id, "alice")
    assert (profile.total_points, profile.lifetime_points) == (100, 600)
    assert held.tag_name == "Gold"
    assert_consistent()


def test_a_failed_payment_grants_nothing(tenant, alice, actor, tags):
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=499, category="login")
    with refused("INSUFFICIENT_POINTS") as info:
        grant(tenant, actor, tags["gold"], pay_with_points=True)
    assert info.value.details["shortage"] == 1
    assert holdings(alice.id) == []


def test_a_failed_payment_leaves_the_current_tag_alone(tenant, alice, actor, tags):
    grant(tenant, actor, tags["silver"])
    with refused("INSUFFICIENT_POINTS"):
        grant(tenant, actor, tags["gold"], resolution="replace_existing", pay_with_points=True)
    [current] = holdings(alice.id)
    assert current.ended_at is None and current.tag_id == tags["silver"].id


def test_a_tag_without_a_price_cannot_be_paid_with_points(tenant, alice, actor, tags):
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=600, category="login")
    with refused("VALIDATION_ERROR") as info:
        grant(tenant, actor, tags["bronze"], pay_with_points=True)
    assert "pay_with_points" in info.value.details["field_errors"]


def test_a_disabled_member_cannot_pay_with_points(tenant, alice, actor, tags):
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=600, category="login")
    members.set_points_enabled(tenant.id, actor, "alice", False)
    with refused("POINTS_DISABLED"):
        grant(tenant, actor, tags["gold"], pay_with_points=True)
    assert len(grant(tenant, actor, tags["gold"])) == 1  # a free grant still works


def test_grants_are_audited(tenant, alice, actor, tags):
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=600, category="login")
    grant(tenant, actor, tags["silver"], pay_with_points=True)
    grant(tenant, actor, tags["gold"], resolution="upgrade_existing")
    rows = db.session.execute(select(AuditLog).where(AuditLog.action == "vip_tag.grant")
                              .order_by(AuditLog.id)).scalars().all()
    assert [(r.data["resolution"], r.data["paid_points"]) for r in rows] == [
        ("grant", 200), ("upgrade_existing", 0)]
    assert {(r.target_id, r.request_id, r.actor_label) for r in rows} == {
        ("alice", "req-test", "tester@example.com")}
    assert count(AuditLog, action="points.spend") == 1


def test_the_conflict_preview_matches_what_each_resolution_does(tenant, alice, actor, tags, clk):
    assert vip.preview_conflict(tenant.id, "alice", tags["gold"].id) is None
    grant(tenant, actor, tags["silver"])
    clk.advance(days=1)
    preview = vip.preview_conflict(tenant.id, "alice", tags["gold"].id)
    assert list(preview.options) == ["upgrade_existing", "extend_existing", "replace_existing"]
    assert preview.options["extend_existing"] == {"tag_name": "Silver",
                                                  "expires_at": T0 + timedelta(days=120)}
    [held] = grant(tenant, actor, tags["gold"], resolution="upgrade_existing")
    assert held.expires_at == preview.options["upgrade_existing"]["expires_at"]


def test_extensions_stop_before_the_calendar_runs_out(app, tenant, make_member, actor):
    from datetime import timedelta

    from app.services import vip
    from app.services.errors import DomainError

    tag = vip.create_tag(tenant.id, actor, tag_name="Forever", tag_type="vip", rank=1,
                         duration_days=36500)
    make_member(tenant, "methuselah")
    vip.grant(tenant.id, actor, user_id="methuselah", tag_id=tag.id)
    extensions = 0
    while True:
        try:
            vip.grant(tenant.id, actor, user_id="methuselah", tag_id=tag.id,
                      resolution="extend_existing")
        except DomainError as exc:
            assert exc.code == "VALIDATION_ERROR"
            assert "resolution" in exc.details["field_errors"]
            break
        extensions += 1
        assert extensions < 100
    held = vip.members.active_tags([vip.members.locate(tenant.id, "methuselah").id])
    (holding,) = next(iter(held.values()))
    assert holding.expires_at + timedelta(days=36500) >= vip.LATEST_EXPIRY
    preview = vip.preview_conflict(tenant.id, "methuselah", tag.id)
    assert "extend_existing" not in preview.options and "replace_existing" in preview.options
