"""Keyboard, screen readers and phones, in English and Chinese: after an htmx swap
focus lands on the outcome and the live region says it; no console error on the
way; the history filter lives in the URL; a phone never scrolls sideways."""
from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext

from app.services import ledger
from tests.browser.conftest import (
    axe_violations, mark_page, new_tab, not_reloaded, sign_in, signed_in, signed_in_at, with_axe,
)

pytestmark = pytest.mark.browser

LOCALES = {"en": ("en-GB", "en"), "zh": ("zh-CN", "zh_Hans_CN")}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(params=list(LOCALES))
def lang(request) -> str:
    return request.param


@pytest.fixture
def tab(browser, request, lang):
    """A page whose browser asks for `lang`; console errors and script errors kept."""
    with new_tab(browser, request, locale=LOCALES[lang][0]) as page:
        page.errors = []  # type: ignore[attr-defined]
        page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        yield page


@pytest.fixture
def said(app, lang):
    """What the portal says in `lang`: the catalogue's translation of an English text."""
    def translate(text: str, **values) -> str:
        with app.test_request_context(), force_locale(LOCALES[lang][1]):
            return gettext(text, **values)
    return translate


@pytest.fixture
def shop(tenant, make_member, make_staff, actor):
    make_staff(tenant, "support")
    make_staff(tenant, "owner")
    make_member(tenant, "u100", display_name="Wang Fang 王芳")
    make_member(tenant, "u300", display_name="New Member")
    ledger.earn(tenant.id, actor, user_id="u100", points_amount=200, category="login",
                reason="welcome")
    ledger.spend(tenant.id, actor, user_id="u100", points_amount=30, category="payment",
                 reason="coffee")
    ledger.earn(tenant.id, actor, user_id="u100", points_amount=50, category="referral",
                reason="a friend")


def focused(page) -> dict:
    return page.evaluate("""() => { const el = document.activeElement;
        return {id: el.id, role: el.getAttribute('role'), text: el.textContent.trim(),
                tag: el.tagName.toLowerCase(), invalid: el.getAttribute('aria-invalid')}; }""")


def announced(page, text: str) -> None:
    page.wait_for_function("t => document.getElementById('live-status').textContent.includes(t)",
                           arg=text)


def refused(status: int) -> str:
    """Chromium logs every 4xx answer to the console, an htmx form's refusal too:
    the network's record of a planned answer, not an error of the page."""
    return f"Failed to load resource: the server responded with a status of {status}"


def only_refusals(errors: list[str], status: int) -> bool:
    return all(e.startswith(refused(status)) for e in errors)


def sideways(page) -> int:
    return page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")


def test_a_change_by_keyboard_takes_focus_to_its_message_and_says_it(tab, server, shop, said):
    sign_in(tab, server, "support@acme.test", by_keyboard=True)
    tab.goto(f"{server}/t/acme/members/u100/")
    mark_page(tab)
    tab.locator("#adjust-points_amount").fill("-20")
    tab.locator("#adjust-category").select_option("manual")  # none is preselected
    tab.locator("#adjust-reason").fill("Goodwill correction")
    tab.locator("#adjust-reason").press("Tab")
    tab.keyboard.press("Enter")  # the focused "Save adjustment" button
    message = said("%(points)s points. New balance: %(balance)s.", points="−20", balance="200")
    announced(tab, message)
    assert focused(tab) == {"id": "", "role": "status", "text": message, "tag": "p",
                            "invalid": None}
    assert "sr-only" in tab.locator("#live-status").get_attribute("class")  # said, not shown twice
    # The member had history: the "no transactions" row was never there to delete.
    assert "Goodwill correction" in tab.locator("#history-rows tr").first.inner_text()
    assert tab.errors == [] and not_reloaded(tab)


def test_a_first_entry_hides_the_empty_history_row(tab, server, shop, said):
    signed_in(tab, server, "support@acme.test")
    tab.goto(f"{server}/t/acme/members/u300/")
    assert tab.locator("#history-empty").is_visible()
    tab.locator("#earn-points_amount").fill("15")
    tab.locator("#earn-category").select_option("login")  # none is preselected
    tab.locator("#earn-points_amount").press("Enter")
    announced(tab, said("%(points)s points. New balance: %(balance)s.", points="+15",
                        balance="15"))
    assert tab.locator("#history-rows tr:visible").count() == 1
    assert tab.locator("#history-empty").is_visible() is False
    assert tab.errors == []


def test_a_refused_change_takes_focus_to_the_first_field_in_error(tab, server, shop, said):
    with_axe(tab)
    signed_in(tab, server, "support@acme.test")
    tab.goto(f"{server}/t/acme/members/u100/")
    tab.locator("#adjust-points_amount").fill("5")
    tab.locator("#adjust-category").select_option("manual")
    tab.locator("#adjust-points_amount").press("Enter")  # no reason given
    error = said("A reason is required.")
    announced(tab, error)
    assert focused(tab)["id"] == "adjust-reason" and focused(tab)["invalid"] == "true"
    assert tab.locator("#adjust-reason-error").inner_text() == error
    assert axe_violations(tab) == []  # the form in its refused state
    # Focus stays in the form: typing the reason and Enter sends it again.
    tab.keyboard.type("Forgot the reason")
    tab.keyboard.press("Tab")
    tab.keyboard.press("Enter")
    announced(tab, said("%(points)s points. New balance: %(balance)s.", points="+5",
                        balance="225"))
    assert focused(tab)["role"] == "status"
    assert only_refusals(tab.errors, 422) and len(tab.errors) == 1


def test_an_overspend_takes_focus_to_its_explanation(tab, server, shop):
    signed_in(tab, server, "owner@acme.test")
    tab.goto(f"{server}/t/acme/members/u100/")
    tab.locator("#spend-points_amount").fill("900")
    tab.locator("#spend-category").select_option("payment")
    tab.locator("#spend-points_amount").press("Enter")
    tab.wait_for_function("() => document.activeElement.matches('#spend-card .form-error')")
    explanation = tab.locator("#spend-card .form-error").inner_text()
    assert "220" in explanation and "680" in explanation  # available and short
    assert focused(tab)["role"] == "alert"
    assert tab.locator("#spend-points_amount").input_value() == "900"  # kept to correct
    announced(tab, " ".join(explanation.split())[:20])
    assert only_refusals(tab.errors, 422) and len(tab.errors) == 1


def test_searching_and_filtering_leave_focus_where_the_person_is(tab, server, shop):
    signed_in(tab, server, "support@acme.test")
    tab.goto(f"{server}/t/acme/members/")
    box = tab.locator("main input[name=q]")  # not the header's find-a-transaction box
    box.fill("u100")
    tab.wait_for_function("() => document.querySelectorAll('#member-rows tr').length === 1")
    assert focused(tab)["tag"] == "input" and tab.evaluate(
        "() => document.activeElement.name") == "q"
    assert tab.errors == []


def test_the_history_filter_is_in_the_url(tab, server, shop, said):
    signed_in(tab, server, "support@acme.test")
    tab.goto(f"{server}/t/acme/members/u100/")
    mark_page(tab)
    assert tab.locator("#history-rows tr").count() == 3
    tab.locator("#history-kind").select_option("spend")
    tab.wait_for_function("() => document.querySelectorAll('#history-rows tr').length === 1")
    assert not_reloaded(tab) and "kind=spend" in tab.url
    assert "coffee" in tab.locator("#history-rows").inner_text()
    shared = tab.url
    tab.reload()
    assert tab.locator("#history-rows tr").count() == 1
    assert tab.locator("#history-kind").input_value() == "spend"
    # Sent to a colleague: the same filtered view in a fresh page.
    other = tab.context.new_page()
    other.goto(shared)
    assert other.locator("#history-rows tr").count() == 1
    assert "coffee" in other.locator("#history-rows").inner_text()
    other.locator("#history-category").select_option("referral")
    other.wait_for_function("() => document.querySelector('#history-empty') !== null")
    assert "kind=spend" in other.url and "category=referral" in other.url
    assert other.locator("#history-empty").inner_text() == said("No transactions.")
    other.go_back()
    other.wait_for_function("() => document.querySelectorAll('#history-rows tr').length === 1")
    assert "category=referral" not in other.url
    assert tab.errors == []


def test_the_favicon_is_real(tab, server, shop):
    signed_in_at(tab, server, "support@acme.test", "/")  # the page signing in lands on
    icon = tab.locator("link[rel=icon]").get_attribute("href")
    response = tab.request.get(server + icon)
    assert response.status == 200 and response.headers["content-type"].startswith("image/svg")
    response = tab.request.get(f"{server}/favicon.ico")
    assert response.status == 200 and response.body()[:4] == b"\x00\x00\x01\x00"
    assert tab.errors == []


def test_a_phone_never_scrolls_sideways_on_the_member_page(tab, server, shop, said):
    with_axe(tab)
    tab.set_viewport_size(PHONE)
    signed_in(tab, server, "support@acme.test")
    tab.goto(f"{server}/t/acme/members/u100/")
    assert sideways(tab) <= 0
    tab.locator("#adjust-points_amount").fill("-10")
    tab.locator("#adjust-category").select_option("manual")
    tab.locator("#adjust-reason").fill("A long reason " * 8)
    tab.locator("#adjust-reason").press("Tab")
    tab.keyboard.press("Enter")
    announced(tab, said("%(points)s points. New balance: %(balance)s.", points="−10",
                        balance="210"))
    assert sideways(tab) <= 0  # after the swap, with a new row and its hidden texts
    assert axe_violations(tab) == []
    tab.locator("#history-kind").select_option("adjust")
    tab.wait_for_function("() => document.querySelectorAll('#history-rows tr').length === 1")
    assert sideways(tab) <= 0
    table = tab.locator("#history .table-wrap")
    if table.evaluate("el => el.scrollWidth > el.clientWidth"):
        assert table.get_attribute("tabindex") == "0"  # the keyboard can scroll it
    assert tab.errors == []
