"""Levels: CRUD, and a member's level following lifetime points on every change."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app import create_app
from app import config as app_config
from app.extensions import db
from app.models import AuditLog, Level
from app.services import ledger, levels, members
from app.services.errors import DomainError
from tests.ledger_helpers import refused
from tests.ledger_invariants import assert_consistent


def level_of(tenant, user_id: str) -> str | None:
    profile = members.get_profile(tenant.id, user_id)
    return profile.level.level_name if profile.level else None


def stored_level(tenant, user_id: str) -> int | None:
    db.session.expire_all()
    return members.locate(tenant.id, user_id).level_id


def earn(tenant, actor, amount, user="alice"):
    return ledger.earn(tenant.id, actor, user_id=user, points_amount=amount, category="login")


@pytest.fixture
def ladder(tenant, actor):
    return {name: levels.create(tenant.id, actor, level_name=name, min_points=threshold)
            for name, threshold in (("Bronze", 0), ("Silver", 100), ("Gold", 500))}


def test_it_creates_levels_in_threshold_order(tenant, actor, ladder):
    assert [(lv.level_name, lv.min_points) for lv in levels.list_levels(tenant.id)] == [
        ("Bronze", 0), ("Silver", 100), ("Gold", 500)]


@pytest.mark.parametrize("fields, bad", [
    ({"level_name": "", "min_points": 10}, "level_name"),
    ({"level_name": "x" * 101, "min_points": 10}, "level_name"),
    ({"level_name": "Silver", "min_points": 10}, "level_name"),  # taken
    ({"level_name": "New", "min_points": 100}, "min_points"),  # taken
    ({"level_name": "New", "min_points": -1}, "min_points"),
    ({"level_name": "New", "min_points": 1.5}, "min_points"),
    ({"level_name": "New", "min_points": True}, "min_points"),
    ({"level_name": "New", "min_points": "10"}, "min_points"),
])
def test_it_validates_levels(tenant, actor, ladder, fields, bad):
    with refused("VALIDATION_ERROR") as info:
        levels.create(tenant.id, actor, **fields)
    assert list(info.value.details["field_errors"]) == [bad]


def test_a_new_member_starts_on_the_zero_level(tenant, make_member, ladder):
    assert make_member(tenant, "alice").level.level_name == "Bronze"


def test_the_level_follows_every_change_of_lifetime_points(tenant, make_member, actor, ladder):
    make_member(tenant, "alice")
    big = earn(tenant, actor, 99)
    assert big.profile.level.level_name == "Bronze"
    assert earn(tenant, actor, 1).profile.level.level_name == "Silver"
    assert ledger.spend(tenant.id, actor, user_id="alice", points_amount=100,
                        category="payment").profile.level.level_name == "Silver"
    out = ledger.adjust(tenant.id, actor, user_id="alice", points_amount=400, reason="vip")
    assert out.profile.level.level_name == "Gold"
    out = ledger.reverse(tenant.id, actor, out.transaction.id, reason="undo")
    assert out.profile.level.level_name == "Silver"
    [batch] = ledger.batch_earn(tenant.id, actor, [ledger.EarnItem("alice", 400, "login")])
    assert batch.profile.level.level_name == "Gold"
    assert_consistent()


def test_changing_the_levels_moves_members_at_once(tenant, make_member, actor, ladder):
    make_member(tenant, "alice")
    make_member(tenant, "bob")
    earn(tenant, actor, 150, "alice")
    earn(tenant, actor, 600, "bob")
    levels.create(tenant.id, actor, level_name="Emerald", min_points=120)
    assert (level_of(tenant, "alice"), level_of(tenant, "bob")) == ("Emerald", "Gold")
    levels.update_level(tenant.id, actor, ladder["Gold"].id, level_name="Gold", min_points=700)
    assert level_of(tenant, "bob") == "Emerald"
    levels.update_level(tenant.id, actor, ladder["Silver"].id, level_name="Silver",
                        min_points=130)
    assert level_of(tenant, "alice") == "Silver"
    levels.delete(tenant.id, actor, ladder["Silver"].id)
    assert (level_of(tenant, "alice"), level_of(tenant, "bob")) == ("Emerald", "Emerald")
    levels.delete(tenant.id, actor, ladder["Bronze"].id)
    levels.delete(tenant.id, actor, levels.list_levels(tenant.id)[0].id)  # Emerald
    assert (level_of(tenant, "alice"), level_of(tenant, "bob")) == (None, None)
    assert stored_level(tenant, "alice") is None
    assert_consistent()


def test_level_changes_are_audited(tenant, actor, ladder):
    levels.update_level(tenant.id, actor, ladder["Gold"].id, level_name="Gold+", min_points=600)
    levels.delete(tenant.id, actor, ladder["Gold"].id)
    rows = db.session.execute(select(AuditLog).where(AuditLog.action.like("level.%"))
                              .order_by(AuditLog.id)).scalars().all()
    assert [r.action for r in rows] == ["level.create"] * 3 + ["level.update", "level.delete"]
    assert rows[3].data["before"] == {"level_name": "Gold", "min_points": 500}
    assert rows[4].target_id == str(ladder["Gold"].id)
    assert {r.request_id for r in rows} == {"req-test"}


def test_another_tenants_level_is_not_found(tenant, other_tenant, actor, ladder):
    theirs = levels.create(other_tenant.id, actor, level_name="Theirs", min_points=5)
    with refused("NOT_FOUND"):
        levels.update_level(tenant.id, actor, theirs.id, level_name="Mine", min_points=7)
    with refused("NOT_FOUND"):
        levels.delete(tenant.id, actor, theirs.id)
    for bad in (None, "1", 10**9):
        with pytest.raises(DomainError):
            levels.get(tenant.id, bad)
    assert [lv.level_name for lv in levels.list_levels(other_tenant.id)] == ["Theirs"]


def test_levels_changed_by_another_worker_apply_to_new_members_and_batches(
        app, database_url, tenant, make_member, actor):
    """Each worker process has its own cache: a level created through another one
    must still decide the level stored by this one's writes."""
    make_member(tenant, "alice")
    assert levels.list_levels(tenant.id) == []  # this worker caches "no levels"
    other = create_app(app_config.TestingConfig(database_url))
    with other.app_context():
        levels.create(tenant.id, actor, level_name="Base", min_points=0)
        levels.create(tenant.id, actor, level_name="Silver", min_points=10)
        db.session.remove()
    db.session.rollback()
    bob = members.create(tenant.id, actor, user_id="bob")
    assert bob.level is not None and bob.level.level_name == "Base"
    [out] = ledger.batch_earn(tenant.id, actor, [ledger.EarnItem("alice", 20, "login")])
    assert out.profile.level is not None and out.profile.level.level_name == "Silver"
    assert_consistent()


def test_levels_deleted_by_another_worker_do_not_break_writes(app, database_url, tenant,
                                                              make_member, actor):
    gone = levels.create(tenant.id, actor, level_name="Base", min_points=0).id
    assert levels.list_levels(tenant.id)[0].id == gone  # cached here
    other = create_app(app_config.TestingConfig(database_url))
    with other.app_context():
        levels.delete(tenant.id, actor, gone)
        db.session.remove()
    db.session.rollback()
    assert db.session.execute(select(Level.id).where(Level.id == gone)).first() is None
    profile = members.create(tenant.id, actor, user_id="carol")
    assert profile.level is None
    [out] = ledger.batch_earn(tenant.id, actor, [ledger.EarnItem("carol", 5, "login")])
    assert out.profile.level is None
    assert_consistent()
