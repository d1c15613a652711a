"""What a confirmation says before an irreversible action (ledger.preview_reversal,
services/consequences.py) and finding a transaction (services/lookup.py): the
numbers match what the action then does, and another tenant's ids find nothing."""
from __future__ import annotations

import pytest

from app.services import consequences, ledger, levels, lookup, members, programme, vip
from app.services.context import Actor
from app.services.errors import DomainError
from tests.conftest import SYSTEM, vip_tag
from tests.ledger_helpers import iso

pytestmark = pytest.mark.usefixtures("clk")


@pytest.fixture
def ann(tenant, make_member):
    make_member(tenant, "ann", display_name="Ann")
    return "ann"


def earn(tenant, actor, amount, user="ann", **extra):
    return ledger.earn(tenant.id, actor, user_id=user, points_amount=amount, category="login",
                       **extra).transaction


# --------------------------------------------------------------------------- reversal preview

def test_a_partly_spent_earn_previews_what_is_left_and_the_reversal_takes_that(
        tenant, ann, actor):
    original = earn(tenant, actor, 694)
    ledger.spend(tenant.id, actor, user_id="ann", points_amount=680, category="payment")
    preview = ledger.preview_reversal(tenant.id, original.id)
    assert (preview.original_points, preview.points, preview.spent, preview.expired) == \
        (694, -14, 680, 0)
    assert preview.is_partial
    outcome = ledger.reverse(tenant.id, actor, original.id, reason="duplicate")
    assert outcome.transaction.points_amount == preview.points


def test_what_expired_is_told_apart_from_what_was_spent(tenant, ann, actor, clk):
    original = earn(tenant, actor, 100, expires_at=iso(clk.later(days=1)))
    other = earn(tenant, actor, 50)
    ledger.spend(tenant.id, actor, user_id="ann", points_amount=30, category="payment")
    clk.advance(days=2)
    ledger.expire_due()
    preview = ledger.preview_reversal(tenant.id, other.id)
    assert (preview.points, preview.spent, preview.expired) == (-50, 0, 0)
    with pytest.raises(DomainError) as info:  # all of it spent or expired
        ledger.preview_reversal(tenant.id, original.id)
    assert info.value.code == "NOT_REVERSIBLE"


def test_a_spend_reversed_later_no_longer_counts_as_spent(tenant, ann, actor, clk):
    original = earn(tenant, actor, 100, expires_at=iso(clk.later(days=1)))
    ledger.spend(tenant.id, actor, user_id="ann", points_amount=30, category="payment")
    # A spend later reversed gives its share back: it no longer counts as spent.
    undone = ledger.spend(tenant.id, actor, user_id="ann", points_amount=20,
                          category="payment").transaction
    ledger.reverse(tenant.id, actor, undone.id, reason="cancelled order")
    ledger.adjust(tenant.id, actor, user_id="ann", points_amount=10, reason="bonus")
    preview = ledger.preview_reversal(tenant.id, original.id)
    assert (preview.points, preview.spent, preview.expired) == (-70, 30, 0)


def test_points_given_back_to_an_expired_lot_show_what_expired(tenant, ann, actor, clk):
    original = earn(tenant, actor, 100, expires_at=iso(clk.later(days=1)))
    spend = ledger.spend(tenant.id, actor, user_id="ann", points_amount=30,
                         category="payment").transaction
    clk.advance(days=2)
    ledger.expire_due()
    ledger.reverse(tenant.id, actor, spend.id, reason="order cancelled")
    preview = ledger.preview_reversal(tenant.id, original.id)
    assert (preview.points, preview.spent, preview.expired) == (-30, 0, 70)


def test_a_spend_previews_giving_back_all_it_took(tenant, ann, actor):
    earn(tenant, actor, 100)
    spend = ledger.spend(tenant.id, actor, user_id="ann", points_amount=40,
                         category="payment").transaction
    preview = ledger.preview_reversal(tenant.id, spend.id)
    assert (preview.original_points, preview.points, preview.is_partial) == (-40, 40, False)


def test_the_preview_refuses_what_the_reversal_refuses(tenant, other_tenant, ann, actor):
    original = earn(tenant, actor, 10)
    reversal = ledger.reverse(tenant.id, actor, original.id, reason="x").transaction
    for tx_id, code in ((original.id, "ALREADY_REVERSED"), (reversal.id, "NOT_REVERSIBLE")):
        with pytest.raises(DomainError) as info:
            ledger.preview_reversal(tenant.id, tx_id)
        assert info.value.code == code
    with pytest.raises(DomainError) as info:  # another tenant's transaction
        ledger.preview_reversal(other_tenant.id, earn(tenant, actor, 5).id)
    assert info.value.code == "NOT_FOUND"


# --------------------------------------------------------------------------- consequences

def test_a_level_deletion_counts_its_members_and_names_where_they_go(tenant, make_member,
                                                                      actor, other_tenant):
    bronze = levels.create(tenant.id, SYSTEM, level_name="Bronze", min_points=0)
    gold = levels.create(tenant.id, SYSTEM, level_name="Gold", min_points=100)
    for user, points in (("a", 150), ("b", 120), ("c", 10)):
        make_member(tenant, user)
        earn(tenant, actor, points, user=user)
    what = consequences.level_deletion(tenant.id, gold.id)
    assert (what.members, what.falls_to.id) == (2, bronze.id)
    bottom = consequences.level_deletion(tenant.id, bronze.id)
    assert (bottom.members, bottom.falls_to) == (1, None)
    levels.delete(tenant.id, SYSTEM, gold.id)
    assert {members.get_profile(tenant.id, u).level.id for u in ("a", "b")} == {bronze.id}
    with pytest.raises(DomainError):
        consequences.level_deletion(other_tenant.id, bronze.id)


def test_a_tag_deletion_says_whether_it_retires(tenant, ann, actor, other_tenant):
    held = vip_tag(tenant.id, "Gold")
    never = vip_tag(tenant.id, "Tin", tag_type="tin")
    vip.grant(tenant.id, actor, user_id="ann", tag_id=held.id)
    what = consequences.tag_deletion(tenant.id, held.id)
    assert (what.retires, what.ever_held, what.held_now) == (True, 1, 1)
    assert not consequences.tag_deletion(tenant.id, never.id).retires
    assert vip.delete_tag(tenant.id, SYSTEM, held.id) == "retired"
    with pytest.raises(DomainError):
        consequences.tag_deletion(other_tenant.id, never.id)


def test_the_last_owner_cannot_lose_access(tenant, make_staff, other_tenant):
    owner = make_staff(tenant, "owner")
    helper = make_staff(tenant, "support")
    assert consequences.access_removal(tenant.id, owner.id).last_owner
    assert not consequences.access_removal(tenant.id, helper.id).last_owner
    with pytest.raises(DomainError):
        consequences.access_removal(other_tenant.id, helper.id)


# --------------------------------------------------------------------------- lookup

def test_a_transaction_is_found_by_id_key_and_request_id(tenant, ann):
    actor = Actor(type="api_client", label="shop", request_id="req-7f3a")
    tx = earn(tenant, actor, 5, idempotency_key="order-991")
    for query, how in ((str(tx.id), "transaction_id"), ("order-991", "idempotency_key"),
                       ("  req-7f3a ", "request_id")):
        found = lookup.find(tenant.id, query)
        assert found.only_transaction is not None, query
        assert (found.only_transaction.id, found.only_transaction.user_id,
                found.only_transaction.matched_by) == (tx.id, "ann", how)


def test_another_tenants_ids_find_nothing(tenant, other_tenant, ann, make_member):
    actor = Actor(type="api_client", label="shop", request_id="req-theirs")
    make_member(other_tenant, "zed")
    theirs = earn(other_tenant, actor, 5, user="zed", idempotency_key="their-key")
    for query in (str(theirs.id), "their-key", "req-theirs"):
        assert lookup.find(tenant.id, query).transactions == []
    assert lookup.find(other_tenant.id, "their-key").only_transaction.id == theirs.id


def test_many_rows_of_one_request_are_a_choice_not_a_guess(tenant, ann, make_member):
    actor = Actor(type="api_client", label="shop", request_id="req-batch")
    make_member(tenant, "bob")
    earn(tenant, actor, 5)
    earn(tenant, actor, 6, user="bob")
    found = lookup.find(tenant.id, "req-batch")
    assert found.only_transaction is None and len(found.transactions) == 2
    assert [t.user_id for t in found.transactions] == ["bob", "ann"]  # newest first


def test_nothing_and_nonsense_find_nothing(tenant, ann, actor):
    earn(tenant, actor, 5)
    for query in ("", "   ", "x" * 300, "99999999999999999999999", "no\x00pe", "0", "-1"):
        found = lookup.find(tenant.id, query)
        assert found.transactions == [] and found.events == [], query


def test_a_programme_event_finds_its_award(tenant, ann):
    programme.create_rule(tenant.id, SYSTEM, {
        "name": "Sign-in", "event_type": "login", "award": {"type": "fixed", "points": 5}})
    programme.record(tenant.id, SYSTEM, lambda o: "", event_id="evt-42", user_id="ann",
                     event_type="login")
    found = lookup.find(tenant.id, "evt-42")
    assert [e.event_id for e in found.events] == ["evt-42"]
    assert found.only_transaction.matched_by == "event_id"
    assert found.only_transaction.points_amount == 5


def test_a_revoked_event_finds_its_award_and_the_reversal(tenant, ann):
    programme.create_rule(tenant.id, SYSTEM, {
        "name": "Sign-in", "event_type": "login", "award": {"type": "fixed", "points": 5}})
    programme.record(tenant.id, SYSTEM, lambda o: "", event_id="evt-43", user_id="ann",
                     event_type="login")
    programme.revoke(tenant.id, SYSTEM, "evt-43", reason="fraud")
    found = lookup.find(tenant.id, "evt-43")
    assert found.only_transaction is None
    assert [(t.kind, t.points_amount) for t in found.transactions] == [("reversal", -5),
                                                                       ("earn", 5)]
