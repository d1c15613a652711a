"""Issue 15, items 1 and 2 in a browser, in English and Chinese: finding a member
by phone or email (masked contact, how many matched, `/` to search), the
default country code setting, and the member's card (create, edit, the points
switch, internal notes)."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.services import ledger, levels, members
from tests.browser.conftest import (
    axe_violations, mark_page, not_reloaded, signed_in, signed_in_at, speaks, with_axe,
)
from tests.conftest import SYSTEM

pytestmark = pytest.mark.browser
LANGUAGES = ["en", "zh"]
TEXT = {
    "en": {"one": "Matching members: 1", "zero": "Matching members: 0", "created": "Member created.",
           "saved": "Details saved.", "off": "Points switched off for this member.",
           "on": "Points switched on for this member.", "disabled": "Points are off",
           "note": "Note added.", "bad_email": "Not a valid email address.",
           "bad_code": "1 to 3 digits", "exists": "already exists",
           "refused": "Points are disabled for this member."},
    "zh": {"one": "符合条件的会员：1", "zero": "符合条件的会员：0", "created": "会员已创建。",
           "saved": "资料已保存。", "off": "已关闭该会员的积分。", "on": "已开启该会员的积分。",
           "disabled": "积分已关闭", "note": "备注已添加。", "bad_email": "电子邮箱地址无效。",
           "bad_code": "1 至 3 位数字", "exists": "已存在", "refused": "该会员的积分已停用。"},
}


@pytest.fixture
def shop(tenant, make_member, make_staff, actor):
    for role in ("owner", "support", "viewer"):
        make_staff(tenant, role)
    levels.create(tenant.id, SYSTEM, level_name="Silver", min_points=100)
    make_member(tenant, "u100", display_name="Wang Fang 王芳", email="fang@example.cn",
                phone="+86 138 0000 0000")
    make_member(tenant, "u200", display_name="Liam Smith", phone="139 1111 2222")
    ledger.earn(tenant.id, actor, user_id="u100", points_amount=694, category="login")
    return tenant


def focused_id(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def save_settings(page) -> None:
    page.locator("form", has=page.locator("#default_country_code")).locator(
        "button[type=submit]").click()


def submit(page, action_end: str, **fields: str) -> None:
    """Fill these fields (by id), then submit the form posting to `action_end`."""
    for name, value in fields.items():
        page.locator(f"#{name}").fill(value)
    page.locator(f"form[action$='{action_end}'] button[type=submit]").click()


def submit_and_land(page, action_end: str, landing: str, flash: str, **fields: str) -> None:
    """Submit the form, land on the page `landing` ends with, and read `flash` there."""
    submit(page, action_end, **fields)
    page.wait_for_url(f"**{landing}")
    assert flash in page.locator(".flashes").inner_text()


def email_refused(page, action_end: str, language: str, **fields: str) -> None:
    """Submit the form with a bad email address: it is refused, next to the field."""
    submit(page, action_end, **fields)
    assert TEXT[language]["bad_email"] in page.locator("#email-error").inner_text()


def rows_found(page, server: str, query: str) -> str:
    """The members list's rows for `query` (URL-encoded), opened by its address."""
    page.goto(f"{server}/t/acme/members/?q={query}")
    return page.locator("#member-rows").inner_text()


def follow(page, href_end: str) -> None:
    """Click the link to `href_end` and land on its page."""
    page.locator(f"a[href$='{href_end}']").click()
    page.wait_for_url(f"**{href_end}")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("typed", ["+86 138 0000 0000", "138-0000-0000", "13800000000"])
def test_a_phone_number_however_written_finds_the_member_masked(page, server, shop, language,
                                                               typed):
    signed_in_at(page, server, "support@acme.test", "/t/acme/members/", language)
    assert focused_id(page) == "member-q"  # the page puts the cursor in the search box
    mark_page(page)
    page.keyboard.type(typed)
    page.wait_for_function("() => document.querySelectorAll('#member-rows tr').length === 1")
    row = page.locator("#member-rows tr").inner_text()
    assert "Wang Fang" in row and "f***@example.cn" in row and "+86 138****0000" in row
    assert "694" in row and "Silver" in row
    assert page.locator("#member-count").inner_text() == TEXT[language]["one"]
    assert "fang@example.cn" not in page.content()
    assert not_reloaded(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_exact_email_finds_the_member_and_a_partial_one_does_not(page, server, shop,
                                                                   language):
    signed_in_at(page, server, "support@acme.test", "/t/acme/members/", language)
    page.locator("#member-q").fill("FANG@example.cn")
    page.wait_for_function("() => document.querySelectorAll('#member-rows tr').length === 1")
    assert "f***@example.cn" in page.locator("#member-rows").inner_text()
    page.locator("#member-q").fill("fang@example")
    page.wait_for_function("() => document.querySelectorAll('#member-rows tr a').length === 0")
    page.wait_for_function("() => /[:：] ?0$/.test(document.getElementById('member-count')"
                           ".textContent.trim())")
    assert page.locator("#member-count").inner_text() == TEXT[language]["zero"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_slash_goes_to_the_search_from_any_page_but_not_while_typing(page, server, shop,
                                                                    language):
    signed_in_at(page, server, "support@acme.test", "/t/acme/members/u100/", language)
    note = page.locator("#note-body")
    note.click()
    page.keyboard.type("a/b")
    assert note.input_value() == "a/b" and page.url.endswith("/members/u100/")
    page.locator("h1").click()
    page.keyboard.press("/")
    page.wait_for_url("**/t/acme/members/")
    page.wait_for_function("() => document.activeElement.id === 'member-q'")
    page.locator("h1").click()
    assert focused_id(page) != "member-q"
    page.keyboard.press("/")
    assert focused_id(page) == "member-q"
    assert page.locator("#member-q").input_value() == ""  # the slash was not typed into it


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_default_country_code_is_set_on_the_settings_page(page, server, shop, language):
    signed_in_at(page, server, "owner@acme.test", "/t/acme/settings", language)
    code = page.locator("#default_country_code")
    assert code.input_value() == "86"
    code.fill("4x")
    save_settings(page)
    assert TEXT[language]["bad_code"] in page.locator("#default_country_code-error").inner_text()
    page.locator("#default_country_code").fill("44")
    save_settings(page)
    page.wait_for_url("**/t/acme/settings")
    assert page.locator("#default_country_code").input_value() == "44"
    assert "Liam Smith" in rows_found(page, server, "%2B44%20139%201111%202222")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_member_is_created_in_the_portal(page, server, shop, language):
    signed_in_at(page, server, "owner@acme.test", "/t/acme/members/", language)
    follow(page, "/members/new")
    email_refused(page, "/members/new", language, user_id="u100", email="not-an-email")
    assert page.locator("#user_id").input_value() == "u100"  # what was typed is kept
    submit(page, "/members/new", email="")
    assert TEXT[language]["exists"] in page.locator(".form-error").inner_text()
    submit_and_land(page, "/members/new", "/members/u300/", TEXT[language]["created"],
                    user_id="u300", display_name="Li Lei 李雷", email="lilei@example.cn",
                    phone="137 2222 3333")
    assert page.locator("h1").inner_text() == "Li Lei 李雷"
    assert "+86 137****3333" in rows_found(page, server, "13722223333")


@pytest.mark.parametrize("language", LANGUAGES)
def test_details_are_edited_from_the_members_page(page, server, shop, language):
    signed_in_at(page, server, "owner@acme.test", "/t/acme/members/u100/", language)
    follow(page, "/members/u100/edit")
    assert page.locator("#phone").input_value() == "+86 138 0000 0000"
    email_refused(page, "/members/u100/edit", language, email="fang@")
    submit_and_land(page, "/members/u100/edit", "/members/u100/", TEXT[language]["saved"],
                    email="wang.fang@example.cn", phone="", display_name="Wang Fang")
    assert "wang.fang@example.cn" in page.locator("main").inner_text()
    db.session.rollback()
    assert members.get_profile(shop.id, "u100").phone is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_points_are_switched_off_and_on(page, server, shop, language):
    signed_in_at(page, server, "owner@acme.test", "/t/acme/members/u200/", language)
    switch = page.locator("#points-switch")
    assert "POINTS_DISABLED" in switch.inner_text()  # it says what switching off does
    switch.locator("button").click()
    page.wait_for_url("**/members/u200/")
    assert TEXT[language]["off"] in page.locator(".flashes").inner_text()
    assert TEXT[language]["disabled"] in page.locator("#points-switch").inner_text()
    form = page.locator("form[action$='/members/u200/earn']")
    form.locator("input[name=points_amount]").fill("5")
    form.locator("select[name=category]").select_option("login")
    form.locator("button[type=submit]").click()
    form.locator(".form-error").wait_for()
    assert TEXT[language]["refused"] in form.locator(".form-error").inner_text()
    page.goto(f"{server}/t/acme/members/u200/")
    page.locator("#points-switch button").click()
    page.wait_for_url("**/members/u200/")
    assert TEXT[language]["on"] in page.locator(".flashes").inner_text()
    db.session.rollback()
    assert members.get_profile(shop.id, "u200").total_points == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_internal_notes_are_added_and_kept_as_text(page, server, shop, language):
    signed_in_at(page, server, "support@acme.test", "/t/acme/members/u100/", language)
    assert page.locator("#points-switch").count() == 0  # support cannot switch points
    submit(page, "/members/u100/notes")
    page.locator("#note-body-error").wait_for()
    page.locator("#note-body").fill("Called about order 42 <b>not bold</b>\nwill call back")
    submit_and_land(page, "/members/u100/notes", "/members/u100/#notes", TEXT[language]["note"])
    notes = page.locator("#notes .notes li")
    assert notes.count() == 1
    assert "<b>not bold</b>" in notes.first.inner_text()  # escaped, shown as typed
    assert "support@acme.test" in notes.first.inner_text()
    assert page.locator("#notes b").count() == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_card_pages_pass_axe(page, server, shop, language):
    with_axe(page)
    speaks(language, "owner@acme.test")
    signed_in(page, server, "owner@acme.test")
    found = {}
    for url in ("/t/acme/members/?q=13800000000", "/t/acme/members/new",
                "/t/acme/members/u100/edit", "/t/acme/members/u100/", "/t/acme/settings"):
        page.goto(server + url)
        if axe_violations(page):
            found[url] = axe_violations(page)
    page.goto(f"{server}/t/acme/members/new")
    submit(page, "/members/new")  # the page with its errors
    page.locator("#user_id-error").wait_for()
    if axe_violations(page):
        found["new with errors"] = axe_violations(page)
    assert found == {}
    page.set_viewport_size({"width": 390, "height": 800})
    # (The member page's history table is item 8's, wt-a11y's sweep.)
    for url in ("/t/acme/members/?q=13800000000", "/t/acme/members/new",
                "/t/acme/members/u100/edit"):
        page.goto(server + url)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > 390:
            found[url] = width
    assert found == {}
