from __future__ import annotations

import re

import pytest

from app.services import ledger
from app.services.permissions import ADJUST, EARN, ROLE_PERMISSIONS, SPEND, VIEW
from tests.webtools import KEY_RE, balance, check_access, is_full_page, text


@pytest.fixture
def alice(tenant, make_member, actor):
    make_member(tenant, "alice", display_name="Alice Liddell", email="alice@example.com")
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=100, category="login",
                reason="welcome")
    return "alice"


def test_it_checks_every_route(people, alice, tenant):
    tx_id = ledger.transactions_page(tenant.id, alice).items[0].id
    routes = [
        ("GET", "/t/acme/members/", VIEW), ("GET", "/t/acme/members/export.csv", VIEW),
        ("GET", "/t/acme/members/alice/", VIEW),
        ("POST", "/t/acme/members/alice/earn", EARN), ("POST", "/t/acme/members/alice/spend", SPEND),
        ("POST", "/t/acme/members/alice/adjust", ADJUST),
        ("GET", f"/t/acme/members/alice/transactions/{tx_id}/reverse", ADJUST),
        ("POST", f"/t/acme/members/alice/transactions/{tx_id}/reverse", ADJUST),
    ]
    for method, url, needed in routes:
        check_access(people, method, url, needed, ROLE_PERMISSIONS)


def test_it_hides_controls_the_role_lacks(people, alice):
    viewer = text(people["viewer"].get("/t/acme/members/alice/"))
    assert "/earn" not in viewer and "/adjust" not in viewer and "Reverse" not in viewer
    support = text(people["support"].get("/t/acme/members/alice/"))
    assert "/earn" in support and "/adjust" in support and "/spend" not in support
    assert 'id="vip-card"' in support  # granting tags is member work: can_adjust_points
    assert 'id="vip-card"' not in viewer


def test_it_answers_404_for_another_tenants_member(people, other_tenant, make_member):
    make_member(other_tenant, "bob")
    assert people["owner"].get("/t/acme/members/bob/").status_code == 404
    assert people["owner"].post("/t/acme/members/bob/earn", {"points_amount": "5",
                                                            "category": "login"}).status_code == 404


def test_it_refuses_a_post_without_csrf(people, alice, tenant):
    response = people["owner"].post("/t/acme/members/alice/earn",
                                    {"points_amount": "5", "category": "login"}, csrf=False)
    assert response.status_code == 400
    assert balance(tenant.id, "alice") == 100
    htmx = people["owner"].post("/t/acme/members/alice/earn", {"points_amount": "5",
                                "category": "login"}, htmx=True, csrf=False)
    assert htmx.status_code == 400 and not is_full_page(htmx)


def test_search_gives_rows_to_htmx_and_the_page_to_a_browser(people, alice):
    full = people["viewer"].get("/t/acme/members/?q=Ali")
    assert is_full_page(full) and "Alice Liddell" in text(full)
    partial = people["viewer"].get("/t/acme/members/?q=Ali", htmx=True)
    assert not is_full_page(partial) and "Alice Liddell" in text(partial)
    assert "<tr" in text(partial) and 'id="export-link"' in text(partial)
    assert "Alice" not in text(people["viewer"].get("/t/acme/members/?q=zzz", htmx=True))
    by_email = people["viewer"].get("/t/acme/members/?q=alice@example.com", htmx=True)
    assert "Alice Liddell" in text(by_email)


def test_search_pages_with_a_cursor(people, tenant, make_member):
    for i in range(30):
        make_member(tenant, f"user{i:02d}")
    first = text(people["viewer"].get("/t/acme/members/", htmx=True))
    cursor = re.search(r'cursor=([\w-]+)', first).group(1)
    second = text(people["viewer"].get(f"/t/acme/members/?cursor={cursor}", htmx=True))
    assert "user04" in second and "user04" not in first
    assert people["viewer"].get("/t/acme/members/?cursor=%%%").status_code == 200


def test_export_is_the_filtered_list_with_formulas_defused(people, tenant, make_member):
    make_member(tenant, "evil", display_name="=HYPERLINK(\"x\")")
    make_member(tenant, "plain", display_name="Plain")
    response = people["viewer"].get("/t/acme/members/export.csv?q=evil")
    body = text(response)
    assert response.mimetype == "text/csv"
    assert "'=HYPERLINK" in body and "Plain" not in body


def test_a_search_with_a_nul_character_is_refused_not_a_500(people, alice):
    """PostgreSQL text cannot hold NUL; the API refuses such a `q` the same way."""
    listing = people["viewer"].get("/t/acme/members/?q=a%00b")
    assert listing.status_code == 200 and "Alice Liddell" not in text(listing)
    assert "not valid" in text(listing)
    assert people["viewer"].get("/t/acme/members/export.csv?q=a%00b").status_code == 400


def test_history_pages_and_filters_for_htmx(people, alice, tenant, actor):
    ledger.spend(tenant.id, actor, user_id="alice", points_amount=10, category="payment")
    partial = people["viewer"].get("/t/acme/members/alice/?kind=spend", htmx=True)
    assert not is_full_page(partial)
    assert "welcome" not in text(partial) and "Spend" in text(partial)
    assert is_full_page(people["viewer"].get("/t/acme/members/alice/?kind=spend"))


def _key(portal, url):
    return KEY_RE.search(text(portal.get(url))).group(1)


def test_an_adjustment_swaps_balance_and_prepends_the_row(people, alice, tenant):
    owner = people["owner"]
    key = _key(owner, "/t/acme/members/alice/")
    response = owner.post("/t/acme/members/alice/adjust",
                          {"points_amount": "-30", "category": "manual", "reason": "goodwill <b>fix</b>",
                           "idempotency_key": key}, htmx=True)
    body = text(response)
    assert response.status_code == 200 and not is_full_page(body and response)
    assert 'id="balance-card"' in body and 'hx-swap-oob="true"' in body
    assert 'hx-swap-oob="afterbegin:#history-rows"' in body
    assert "goodwill &lt;b&gt;fix&lt;/b&gt;" in body
    assert balance(tenant.id, "alice") == 70


def test_a_double_submit_makes_one_change(people, alice, tenant):
    owner = people["owner"]
    key = _key(owner, "/t/acme/members/alice/")
    data = {"points_amount": "5", "category": "login", "idempotency_key": key}
    first = owner.post("/t/acme/members/alice/earn", data, htmx=True)
    second = owner.post("/t/acme/members/alice/earn", data, htmx=True)
    assert first.status_code == second.status_code == 200
    assert balance(tenant.id, "alice") == 105
    assert "Already done" in text(second)


def test_a_forged_key_with_a_nul_character_is_refused_inline(people, alice, tenant):
    data = {"points_amount": "5", "category": "login", "idempotency_key": "portal:a\x00"}
    response = people["owner"].post("/t/acme/members/alice/earn", data, htmx=True)
    assert response.status_code == 422 and "cannot be stored" in text(response)
    assert balance(tenant.id, "alice") == 100


def test_overspending_shows_the_shortage_inline_and_keeps_the_input(people, alice, tenant):
    response = people["admin"].post("/t/acme/members/alice/spend",
                                    {"points_amount": "250", "category": "payment",
                                     "reason": "big order"}, htmx=True)
    body = text(response)
    assert response.status_code == 422 and not is_full_page(response)
    assert "150" in body and 'value="250"' in body and "big order" in body
    assert balance(tenant.id, "alice") == 100


def test_without_javascript_a_refusal_renders_the_whole_page(people, alice):
    response = people["owner"].post("/t/acme/members/alice/adjust",
                                    {"points_amount": "abc", "reason": ""})
    assert response.status_code == 422 and is_full_page(response)
    assert 'value="abc"' in text(response)


def test_without_javascript_a_success_redirects(people, alice, tenant):
    response = people["support"].post("/t/acme/members/alice/earn",
                                      {"points_amount": "7", "category": "referral"})
    assert response.status_code == 302
    assert balance(tenant.id, "alice") == 107


def test_a_reversal_is_confirmed_first(people, alice, tenant):
    tx_id = ledger.transactions_page(tenant.id, alice).items[0].id
    url = f"/t/acme/members/alice/transactions/{tx_id}/reverse"
    confirm = people["support"].get(url, htmx=True)
    assert "Confirm reversal" in text(confirm) and not is_full_page(confirm)
    missing = people["support"].post(url, {"reason": ""}, htmx=True)
    assert missing.status_code == 422 and "reason" in text(missing).lower()
    done = people["support"].post(url, {"reason": "duplicate"}, htmx=True)
    assert done.status_code == 200 and 'id="balance-card"' in text(done)
    assert balance(tenant.id, "alice") == 0
    again = people["support"].post(url, {"reason": "again"}, htmx=True)
    assert again.status_code == 409


def test_names_and_reasons_are_escaped(people, tenant, make_member, actor):
    make_member(tenant, "x1", display_name="<script>alert(1)</script>")
    ledger.earn(tenant.id, actor, user_id="x1", points_amount=5, category="login",
                reason='<img src=x onerror="alert(2)">')
    for url in ("/t/acme/members/x1/", "/t/acme/members/", "/t/acme/"):
        body = text(people["owner"].get(url))
        assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text(people["owner"].get("/t/acme/members/x1/"))


def test_only_reversible_entries_offer_a_reversal(people, alice, tenant, actor):
    earn_id = ledger.transactions_page(tenant.id, alice).items[0].id
    reversal_id = ledger.reverse(tenant.id, actor, earn_id, reason="mistake").transaction.id
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=30, category="login")
    open_id = ledger.transactions_page(tenant.id, alice).items[0].id
    page = text(people["owner"].get("/t/acme/members/alice/"))

    def offered(tx_id: int) -> bool:
        return f"/transactions/{tx_id}/reverse" in page

    # the fresh earn can be undone; the reversed earn and the reversal itself cannot
    assert offered(open_id)
    assert not offered(earn_id) and not offered(reversal_id)
