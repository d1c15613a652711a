"""Members: create, find, search, enable/disable points, PII at rest."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import AuditLog
from app.services import ledger, levels, member_card, members, vip
from app.services.errors import DomainError, ValidationFailed
from tests.ledger_helpers import refused


def test_it_creates_a_member_with_encrypted_contact_details(tenant, actor):
    profile = members.create(tenant.id, actor, user_id="u-1", display_name="王小明 <b>",
                             email="Wang@Example.cn", phone="+86 138 0000 0000")
    assert (profile.user_id, profile.display_name, profile.email, profile.phone) == (
        "u-1", "王小明 <b>", "Wang@Example.cn", "+86 138 0000 0000")
    assert (profile.total_points, profile.lifetime_points, profile.is_points_enabled) == (
        0, 0, True)
    row = db.session.execute(text("SELECT * FROM members")).mappings().one()
    assert "Wang" not in (row["email_encrypted"] or "") and "138" not in row["phone_encrypted"]
    assert row["email_hash"] and "example" not in row["email_hash"]
    audit = db.session.execute(select(AuditLog).where(AuditLog.action == "member.create")
                               ).scalar_one()
    assert (audit.target_id, audit.request_id) == ("u-1", "req-test")
    assert "Wang" not in str(audit.data) and audit.data["email_set"] is True


@pytest.mark.parametrize("fields, bad", [
    ({"user_id": ""}, "user_id"), ({"user_id": None}, "user_id"), ({"user_id": 12}, "user_id"),
    ({"user_id": "a b"}, "user_id"), ({"user_id": "a/b"}, "user_id"),
    ({"user_id": "x" * 129}, "user_id"), ({"user_id": "ok\x00"}, "user_id"),
    ({"user_id": "ok", "display_name": "d" * 201}, "display_name"),
    ({"user_id": "ok", "display_name": 5}, "display_name"),
    ({"user_id": "ok", "email": "not-an-email"}, "email"),
    ({"user_id": "ok", "email": "a\x00@b.test"}, "email"),
    ({"user_id": "ok", "email": "a@b.te\x7fst"}, "email"),
    ({"user_id": "ok", "phone": "call me"}, "phone"),
])
def test_it_validates_new_members(tenant, actor, fields, bad):
    with refused("VALIDATION_ERROR") as info:
        members.create(tenant.id, actor, **fields)
    assert list(info.value.details["field_errors"]) == [bad]


def test_user_ids_are_unique_within_a_tenant_only(tenant, other_tenant, actor):
    members.create(tenant.id, actor, user_id="same")
    with refused("MEMBER_EXISTS") as info:
        members.create(tenant.id, actor, user_id="same")
    assert info.value.details == {"user_id": "same"}
    assert members.create(other_tenant.id, actor, user_id="same").user_id == "same"


def test_it_finds_members_of_its_own_tenant_only(tenant, other_tenant, make_member):
    make_member(other_tenant, "theirs")
    for user_id in ("theirs", "nobody", 5, None):
        with pytest.raises(DomainError) as info:
            members.get_profile(tenant.id, user_id)
        assert info.value.code == "MEMBER_NOT_FOUND"


def test_locate_reads_a_member_of_its_own_tenant_fresh(tenant, other_tenant, make_member,
                                                       actor):
    make_member(tenant, "alice", display_name="Alice")
    make_member(other_tenant, "bob")
    before = members.locate(tenant.id, "alice")
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=30, category="login")
    after = members.locate(tenant.id, "alice")
    assert isinstance(after, members.MemberRecord)
    assert (after.id, after.user_id, after.display_name, after.total_points) == (
        before.id, "alice", "Alice", 30)
    assert members.get_profile(tenant.id, "alice").total_points == 30
    for tenant_id, user_id in ((tenant.id, "bob"), (other_tenant.id, "alice"),
                               (tenant.id, "ali\x00ce"), (tenant.id, "ali\ud800ce"),
                               (tenant.id, 7), (tenant.id, None)):
        for lock in (False, True):
            with pytest.raises(DomainError) as caught:
                members.locate(tenant_id, user_id, lock=lock)
            assert caught.value.code == "MEMBER_NOT_FOUND"


def test_a_profile_is_one_statement_with_the_active_tags_and_whether_there_are_events(
        tenant, other_tenant, make_member, actor, clk):
    from app.services import programme
    from tests.querycount import statements

    make_member(tenant, "alice")
    make_member(tenant, "bob")
    make_member(other_tenant, "alice")
    tag = {name: vip.create_tag(tenant.id, actor, tag_name=name.title(), tag_type=kind, rank=1,
                                duration_days=days)
           for name, kind, days in (("gold", "vip", 30), ("beta", "beta", 5), ("old", "x", 1))}
    for name in ("gold", "beta", "old"):
        vip.grant(tenant.id, actor, user_id="alice", tag_id=tag[name].id)
    vip.grant(tenant.id, actor, user_id="bob", tag_id=tag["gold"].id)
    clk.advance(days=2)  # "old" has expired
    with statements() as seen:
        profile = members.get_profile(tenant.id, "alice")
    # One statement reads the member, its tags and its events (outside a request the
    # levels' cache asks for the catalogue's version as well).
    assert len([s for s in seen if "members" in s or "member_tags" in s
                or "programme_events" in s]) == 1
    # What the two-statement path (the member, then its tags) gives.
    listed = members.profile_of(tenant.id, members.locate(tenant.id, "alice"))
    listed.has_events = listed.has_notes = False
    assert profile == listed
    assert [t.tag_name for t in profile.tags] == ["Beta", "Gold"]  # by type, as lists order
    assert members.get_profile(tenant.id, "bob").tags[0].tag_name == "Gold"
    assert members.get_profile(other_tenant.id, "alice").tags == []

    programme.create_rule(tenant.id, actor, {"name": "Pay", "event_type": "payment",
                                             "award": {"type": "fixed", "points": 8}})
    programme.record(tenant.id, actor, lambda o: "", event_id="order-1", user_id="alice",
                     event_type="payment", amount="20")
    assert members.get_profile(tenant.id, "alice").has_events is True
    assert members.get_profile(tenant.id, "bob").has_events is False
    assert members.get_profile(other_tenant.id, "alice").has_events is False

    assert members.get_profile(tenant.id, "alice").has_notes is False
    member_card.add_note(tenant.id, actor, "alice", "Called about a missing order.")
    assert members.get_profile(tenant.id, "alice").has_notes is True
    assert members.get_profile(tenant.id, "bob").has_notes is False
    assert members.get_profile(other_tenant.id, "alice").has_notes is False


def test_a_user_id_the_database_cannot_store_is_not_found_or_refused(tenant, actor):
    """A lone surrogate (JSON can carry one) cannot be encoded: a clear answer, not a 500."""
    with pytest.raises(DomainError) as caught:
        members.get_profile(tenant.id, "a\ud800")
    assert caught.value.code == "MEMBER_NOT_FOUND"
    for create in (lambda: ledger.earn(tenant.id, actor, user_id="a\udc00", points_amount=1,
                                       category="login"),
                   lambda: members.create(tenant.id, actor, user_id="a\udc00")):
        with pytest.raises(ValidationFailed) as failed:
            create()
        assert "user_id" in failed.value.field_errors


def test_it_enables_and_disables_points_and_audits_only_changes(tenant, make_member, actor):
    make_member(tenant, "alice")
    assert members.set_points_enabled(tenant.id, actor, "alice", False).is_points_enabled is False
    members.set_points_enabled(tenant.id, actor, "alice", False)
    assert members.set_points_enabled(tenant.id, actor, "alice", True).is_points_enabled is True
    actions = db.session.execute(select(AuditLog.action).where(
        AuditLog.action.like("member.points%")).order_by(AuditLog.id)).scalars().all()
    assert actions == ["member.points_disabled", "member.points_enabled"]


@pytest.mark.parametrize("value", ["false", 0, None, "yes"])
def test_it_refuses_a_non_boolean_switch(tenant, make_member, actor, value):
    make_member(tenant, "alice")
    with refused("VALIDATION_ERROR") as info:
        members.set_points_enabled(tenant.id, actor, "alice", value)
    assert list(info.value.details["field_errors"]) == ["is_points_enabled"]


def test_disabling_another_tenants_member_is_not_found(tenant, other_tenant, make_member, actor):
    make_member(other_tenant, "alice")
    with refused("MEMBER_NOT_FOUND"):
        members.set_points_enabled(tenant.id, actor, "alice", False)


# --------------------------------------------------------------------------- search

@pytest.fixture
def crowd(tenant, other_tenant, actor):
    people = [("u100", "Emma Smith", "emma@example.com"), ("u101", "李娜", "lina@example.cn"),
              ("u102", "Emmanuel Costa", None), ("x200", "50% off", None),
              ("u_3", "Under Score", None)]
    for user_id, name, email in people:
        members.create(tenant.id, actor, user_id=user_id, display_name=name, email=email)
    members.create(other_tenant.id, actor, user_id="u999", display_name="Emma Other",
                   email="emma@example.com")
    return people


def ids(page) -> list[str]:
    return [p.user_id for p in page.items]


def test_search_lists_a_tenants_members_newest_first(tenant, crowd):
    assert ids(members.search(tenant.id)) == ["u_3", "x200", "u102", "u101", "u100"]


def test_search_finds_an_exact_email_whatever_its_case(tenant, crowd):
    assert ids(members.search(tenant.id, q=" EMMA@example.com ")) == ["u100"]
    assert ids(members.search(tenant.id, q="emma@example")) == []


def test_search_matches_a_user_id_prefix_or_part_of_the_name(tenant, crowd):
    assert ids(members.search(tenant.id, q="u10")) == ["u102", "u101", "u100"]
    assert ids(members.search(tenant.id, q="emma")) == ["u102", "u100"]
    assert ids(members.search(tenant.id, q="娜")) == ["u101"]


def test_search_treats_like_wildcards_literally(tenant, crowd):
    assert ids(members.search(tenant.id, q="%")) == ["x200"]
    assert ids(members.search(tenant.id, q="u_")) == ["u_3"]


def test_search_pages_with_a_cursor(tenant, crowd):
    first = members.search(tenant.id, page_size=2)
    second = members.search(tenant.id, page_size=2, cursor=first.next_cursor)
    third = members.search(tenant.id, page_size=2, cursor=second.next_cursor)
    assert ids(first) + ids(second) + ids(third) == ["u_3", "x200", "u102", "u101", "u100"]
    assert third.next_cursor is None and not third.has_next
    with pytest.raises(ValidationFailed):
        members.search(tenant.id, cursor="not-a-cursor")


def test_search_filters_by_level_and_tag(tenant, crowd, actor):
    gold = levels.create(tenant.id, actor, level_name="Gold", min_points=100)
    ledger.earn(tenant.id, actor, user_id="u101", points_amount=150, category="login")
    tag = vip.create_tag(tenant.id, actor, tag_name="VIP", tag_type="vip", rank=1,
                         duration_days=30)
    vip.grant(tenant.id, actor, user_id="u102", tag_id=tag.id)
    assert ids(members.search(tenant.id, level_id=gold.id)) == ["u101"]
    assert ids(members.search(tenant.id, tag_id=tag.id)) == ["u102"]


@pytest.mark.parametrize("value, size", [(None, 20), ("", 20), ("5", 5), (100, 100)])
def test_page_size_defaults_to_20_and_stops_at_100(value, size):
    assert members.check_page_size(value) == size


@pytest.mark.parametrize("value", [0, 101, "abc", True, -1])
def test_page_size_outside_1_to_100_is_a_validation_error(value):
    with pytest.raises(ValidationFailed) as info:
        members.check_page_size(value)
    assert info.value.details["field_constraints"]["page_size"]["max"] == 100
