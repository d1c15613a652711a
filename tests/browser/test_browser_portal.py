"""What a support agent does in a browser, end to end."""
# htmx outcomes are looked for inside <main>: the live region (#live-status, outside it)
# repeats each one for screen readers.
from __future__ import annotations

from datetime import timedelta

import pytest

from app.services import clock, ledger, levels, vip
from tests.browser.conftest import (
    axe_violations, mark_page, not_reloaded, sign_in, signed_in, with_axe,
)
from tests.conftest import SYSTEM

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(tenant, make_member, make_staff, actor):
    """A tenant with staff, levels, a VIP catalogue and a few members."""
    for role in ("owner", "support", "viewer"):
        make_staff(tenant, role)
    levels.create(tenant.id, SYSTEM, level_name="Bronze", min_points=0)
    levels.create(tenant.id, SYSTEM, level_name="Gold", min_points=1000)
    silver = vip.create_tag(tenant.id, SYSTEM, tag_name="Silver", tag_type="vip", rank=1,
                            duration_days=30, points_price=40)
    gold = vip.create_tag(tenant.id, SYSTEM, tag_name="Gold VIP", tag_type="vip", rank=2,
                          duration_days=60, points_price=80)
    make_member(tenant, "u100", display_name="Wang Fang 王芳", email="fang@example.cn")
    make_member(tenant, "u200", display_name="Liam Smith")
    for user_id in ("u100", "u200"):
        ledger.earn(tenant.id, actor, user_id=user_id, points_amount=200, category="login",
                    reason="welcome")
    with clock.frozen(clock.now() - timedelta(days=2)):
        vip.grant(tenant.id, actor, user_id="u100", tag_id=silver.id)
    return {"silver": silver, "gold": gold}


def send(card, button: str, fields: dict[str, str]) -> None:
    """Fill the card's fields, found by their labels (a select by its option's value),
    then press its button."""
    for label, value in fields.items():
        field = card.get_by_label(label)
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    card.get_by_role("button", name=button).click()


def on_member_page(page, server: str, email: str, user_id: str) -> None:
    """Signed in as `email` on the member's page, marked to tell a reload."""
    signed_in(page, server, email)
    page.goto(f"{server}/t/acme/members/{user_id}/")
    mark_page(page)


def test_sign_in_and_find_a_member_by_live_search(page, server, shop):
    sign_in(page, server, "support@acme.test")
    page.goto(f"{server}/t/acme/members/")
    mark_page(page)
    page.get_by_label("Search").fill("王芳")
    page.wait_for_function("() => document.querySelectorAll('#member-rows tr').length === 1")
    assert "Wang Fang" in page.locator("#member-rows").inner_text()
    assert not_reloaded(page) and "q=" in page.url
    page.get_by_role("link", name="Wang Fang 王芳").click()
    page.wait_for_url("**/members/u100/")
    assert page.locator("[data-balance]").inner_text() == "200"


def test_adjust_points_without_a_reload(page, server, shop):
    on_member_page(page, server, "support@acme.test", "u200")
    send(page.locator("#adjust-card"), "Save adjustment", {
        "Points (negative to take away)": "-30", "Category": "manual",
        "Reason": "Goodwill correction"})
    page.wait_for_function("() => document.querySelector('[data-balance]').textContent === '170'")
    first_row = page.locator("#history-rows tr").first
    assert "Goodwill correction" in first_row.inner_text() and "−30" in first_row.inner_text()
    assert "New balance: 170" in page.locator("#adjust-card").inner_text()
    assert not_reloaded(page)


def test_overspending_shows_the_error_in_the_form(page, server, shop):
    on_member_page(page, server, "owner@acme.test", "u200")
    card = page.locator("#spend-card")
    send(card, "Spend points", {"Points": "500", "Category": "payment", "Reason": "Big order"})
    page.locator("#spend-card .form-error").wait_for()
    message = page.locator("#spend-card .form-error").inner_text()
    assert "200 available" in message and "300 short" in message
    assert card.get_by_label("Points").input_value() == "500"
    assert card.get_by_label("Reason").input_value() == "Big order"
    assert page.locator("[data-balance]").inner_text() == "200" and not_reloaded(page)


@pytest.mark.parametrize("choice,expected", [
    ("Upgrade the current tag", "Gold VIP"), ("Extend the current tag", "Silver"),
    ("Replace the current tag", "Gold VIP")])
def test_a_vip_conflict_is_resolved_in_place(page, server, shop, choice, expected):
    on_member_page(page, server, "owner@acme.test", "u100")
    vip_card = page.locator("#vip-card")
    vip_card.get_by_label("VIP tag").select_option(label="Gold VIP · vip · 60d")
    vip_card.get_by_role("button", name="Grant tag").click()
    page.locator("main").get_by_text("This member already holds").wait_for()
    assert "Silver" in vip_card.inner_text() and "200 → 120" in vip_card.inner_text()
    page.get_by_label(choice).check()
    if choice.startswith("Upgrade"):
        page.get_by_label("Pay 80 points", exact=False).check()
    vip_card.get_by_role("button", name="Confirm").click()
    page.locator("main").get_by_text("Gold VIP granted.").wait_for()
    assert expected in page.locator("#tags-card").inner_text()
    balance = "120" if choice.startswith("Upgrade") else "200"
    assert page.locator("[data-balance]").inner_text() == balance
    assert not_reloaded(page)


def test_batch_earn_a_bad_file_then_a_good_one(page, server, shop, tmp_path):
    signed_in(page, server, "support@acme.test")
    page.goto(f"{server}/t/acme/batch-earn/")
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,points_amount,category,reason\nu100,10,login,ok\nnobody,5,login,x\n")
    page.get_by_label("CSV file", exact=True).set_input_files(str(bad))
    page.get_by_role("button", name="Preview").click()
    page.locator("main").get_by_text("No member with this user id.").wait_for()
    assert page.get_by_role("button", name="Apply all").count() == 0
    good = tmp_path / "good.csv"
    good.write_text("user_id,points_amount,category,reason\nu100,10,login,ok\nu200,5,referral,x\n")
    page.get_by_label("CSV file", exact=True).set_input_files(str(good))
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("button", name="Apply all 2 rows").click()
    page.get_by_text("2 rows applied").wait_for()
    page.goto(f"{server}/t/acme/members/u200/")
    assert page.locator("[data-balance]").inner_text() == "205"


def test_script_in_names_and_reasons_stays_text(page, server, shop, tenant, make_member, actor):
    make_member(tenant, "x1", display_name="<script>alert('name')</script>")
    ledger.earn(tenant.id, actor, user_id="x1", points_amount=5, category="login",
                reason="<img src=x onerror=alert('reason')>")
    signed_in(page, server, "owner@acme.test")
    for url in ("/t/acme/members/x1/", "/t/acme/members/?q=x1", "/t/acme/", "/t/acme/audit/"):
        page.goto(server + url)
        page.wait_for_load_state("load")
    page.goto(f"{server}/t/acme/members/x1/")
    assert page.get_by_role("heading", name="<script>alert('name')</script>").count() == 1
    assert "<img src=x onerror=alert('reason')>" in page.locator("#history-rows").inner_text()
    assert page.locator("#history-rows img").count() == 0
    send(page.locator("#earn-card"), "Give points", {
        "Points": "1", "Category": "login", "Reason": "<img src=y onerror=alert('typed')>"})
    page.locator("main").get_by_text("New balance: 6").wait_for()
    assert page.locator("#history-rows img").count() == 0
    assert page.dialogs == []


PAGES = ["/login", "/t/acme/", "/t/acme/members/", "/t/acme/members/u100/",
         "/t/acme/members/u100/transactions/1/reverse", "/t/acme/vip-tags/",
         "/t/acme/levels/", "/t/acme/settings", "/t/acme/staff/", "/t/acme/api-clients/",
         "/t/acme/audit/", "/t/acme/batch-earn/", "/t/acme/members/nobody/"]


def test_every_page_passes_axe(page, server, shop):
    with_axe(page)
    page.goto(f"{server}/login")
    assert axe_violations(page) == []
    signed_in(page, server, "owner@acme.test")
    found = {}
    for url in PAGES[1:]:
        page.goto(server + url)
        violations = axe_violations(page)
        if violations:
            found[url] = violations
    page.goto(f"{server}/t/acme/members/u100/")  # the conflict form, drawn by htmx
    page.locator("#vip-card").get_by_label("VIP tag").select_option(label="Gold VIP · vip · 60d")
    page.locator("#vip-card").get_by_role("button", name="Grant tag").click()
    page.locator("main").get_by_text("This member already holds").wait_for()
    if axe_violations(page):
        found["conflict form"] = axe_violations(page)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    for url in ("/t/acme/", "/t/acme/members/u100/"):
        page.goto(server + url)
        if axe_violations(page):
            found[f"{url} (phone)"] = axe_violations(page)
    assert found == {}
