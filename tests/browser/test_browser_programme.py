"""The programme in a browser: the rules page, the simulator over htmx, a rule's
inline errors, an event's page and its revoke, in English and Chinese, with axe."""
from __future__ import annotations

import pytest

from app.services import levels, programme
from tests.browser.conftest import (
    axe_violations, mark_page, not_reloaded, signed_in, speaks, with_axe,
)
from tests.conftest import SYSTEM

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(tenant, make_member, make_staff):
    for role in ("owner", "support"):
        make_staff(tenant, role)
    gold = levels.create(tenant.id, SYSTEM, level_name="Gold", min_points=0)
    make_member(tenant, "u100", display_name="Wang Fang 王芳")
    programme.create_rule(tenant.id, SYSTEM, {
        "name": "Payments", "event_type": "payment",
        "award": {"type": "per_amount", "points": 1, "per": "10"}})
    programme.create_rule(tenant.id, SYSTEM, {
        "name": "Gold x1.5", "event_type": "payment",
        "award": {"type": "multiplier", "factor": "1.5"}, "levels": [gold.id]})
    programme.record(tenant.id, SYSTEM, lambda o: "", event_id="order-1", user_id="u100",
                     event_type="payment", amount="40")
    return gold


def test_the_simulator_answers_in_place(page, server, shop):
    signed_in(page, server, "owner@acme.test")
    page.goto(f"{server}/t/acme/programme/rules/")
    mark_page(page)
    page.get_by_label("Member (user id)").fill("u100")
    page.locator("#sim-event_type").fill("payment")
    page.get_by_label("Amount", exact=True).fill("35")
    page.get_by_role("button", name="Simulate").click()
    page.locator("#simulation table").wait_for()
    text = page.locator("#simulation").inner_text()
    assert "Payments" in text and "Gold x1.5" in text and "Total" in text
    assert not_reloaded(page)


def test_a_bad_rule_shows_its_errors_in_the_form(page, server, shop):
    signed_in(page, server, "owner@acme.test")
    page.goto(f"{server}/t/acme/programme/rules/")
    form = page.locator("form", has=page.get_by_role("button", name="Create rule"))
    form.get_by_label("Name").fill("Refer a friend")
    form.get_by_label("Event type").fill("referral")
    form.get_by_label("Points", exact=True).fill("0")
    form.get_by_role("button", name="Create rule").click()
    page.locator(".field-error").first.wait_for()
    assert "between 1 and" in page.locator(".field-error").first.inner_text()
    assert form.get_by_label("Name").input_value() == "Refer a friend"


def test_an_event_is_revoked_from_its_page(page, server, shop):
    signed_in(page, server, "support@acme.test")
    page.goto(f"{server}/t/acme/members/u100/")
    page.get_by_role("link", name="order-1").click()
    page.wait_for_url("**/events/order-1/")
    page.get_by_label("Reason").fill("Refunded order")
    page.get_by_role("button", name="Revoke").click()
    page.get_by_text("Taken back: 6 points").wait_for()
    assert "Revoked" in page.locator("main").inner_text()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_programme_pages_pass_axe(page, server, shop, language):
    speaks(language, "owner@acme.test")
    with_axe(page)
    signed_in(page, server, "owner@acme.test")
    found = {}
    rule_id = programme.list_rules(shop.tenant_id)[0].id
    for url in ("/t/acme/programme/rules/", f"/t/acme/programme/rules/{rule_id}/edit",
                "/t/acme/events/order-1/", "/t/acme/members/u100/"):
        page.goto(server + url)
        if axe_violations(page):
            found[url] = axe_violations(page)
    page.goto(f"{server}/t/acme/programme/rules/")
    page.locator("#sim-event_type").fill("payment")
    page.locator("form[hx-post] button[type=submit]").click()
    page.locator("#simulation table, #simulation p").first.wait_for()
    if axe_violations(page):
        found["simulation"] = axe_violations(page)
    if language == "zh":
        assert "积分规则" in page.locator("h1").inner_text()
    assert found == {}
