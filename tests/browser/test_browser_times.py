"""Issue 15 items 6, 9, 10, 11 and 12 driven through the portal in a browser, in
English and in Chinese: times in the tenant's zone with the zone named, audited
CSV exports, the dashboard's periods and expiring list, request ids on error
pages, and the sign-in address seed-demo prints."""
from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.services import clock, ledger, tenants
from tests.browser.conftest import (
    axe_violations, mark_page, new_tab, not_reloaded, sign_in, signed_in, signed_in_at, speaks,
    with_axe,
)
from tests.conftest import SYSTEM

pytestmark = pytest.mark.browser
LANGUAGES = ["en", "zh"]
AT = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)  # 2 December, 02:30 in Shanghai


@pytest.fixture
def shop(app, tenant, make_member, make_staff, actor):
    """A Shanghai programme: staff, two members with contact details, history."""
    for role in ("owner", "support", "viewer"):
        make_staff(tenant, role)
    tenants.update_settings(tenant.id, SYSTEM, name=tenant.name, max_points_per_operation=10000,
                            default_expiry_days=None, timezone="Asia/Shanghai")
    with clock.frozen(AT):
        make_member(tenant, "u100", display_name="Wang Fang 王芳", email="fang@example.cn",
                    phone="+86 138 0000 0000")
        ledger.earn(tenant.id, actor, user_id="u100", points_amount=200, category="login")
    make_member(tenant, "u200", display_name="=cmd|calc", phone="-12 34")
    return tenant


def _download(page, link_selector: str) -> str:
    with page.expect_download() as info:
        page.locator(link_selector).click()
    with open(info.value.path(), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("language", LANGUAGES)
def test_times_are_the_tenants_with_the_zone_named(page, server, shop, language):
    speaks(language, "owner@acme.test")
    signed_in(page, server, "owner@acme.test")
    for url in ("/t/acme/members/u100/", "/t/acme/", "/t/acme/audit/?action=points.earn"):
        page.goto(server + url)
        moment = page.locator('time[datetime="2026-12-02T02:30:00+08:00"]').first
        assert moment.inner_text().startswith("2026-12-02 02:30"), url
        assert moment.inner_text().endswith("UTC+8") and \
            moment.get_attribute("title") == "Asia/Shanghai"
        assert "Asia/Shanghai" in page.locator("footer").inner_text()
    page.goto(f"{server}/t/acme/members/")
    rows = list(csv.DictReader(io.StringIO(_download(page, "#export-link"))))
    assert {r["user_id"]: r["created_at"] for r in rows}["u100"] == "2026-12-02T02:30:00+08:00"


@pytest.mark.parametrize("language", LANGUAGES)
def test_exports_are_audited_and_contact_columns_follow_the_role(page, server, shop, language):
    speaks(language, "owner@acme.test", "viewer@acme.test")
    signed_in(page, server, "viewer@acme.test")
    page.goto(f"{server}/t/acme/members/?q=u1")
    viewer_rows = list(csv.DictReader(io.StringIO(_download(page, "#export-link"))))
    assert [r["user_id"] for r in viewer_rows] == ["u100"]
    assert "email" not in viewer_rows[0] and "phone" not in viewer_rows[0]
    page.context.clear_cookies()
    signed_in(page, server, "owner@acme.test")
    page.goto(f"{server}/t/acme/members/")
    body = _download(page, "#export-link")
    rows = {r["user_id"]: r for r in csv.DictReader(io.StringIO(body))}
    assert rows["u100"]["phone"] == "+86 138 0000 0000"  # as stored, no ' in front
    assert rows["u100"]["email"] == "fang@example.cn" and rows["u200"]["phone"] == "-12 34"
    assert rows["u200"]["display_name"] == "'=cmd|calc"  # a formula, defused
    page.goto(f"{server}/t/acme/audit/")
    page.locator("#audit-action").fill("export.")
    page.locator("#audit-action").press("Enter")
    page.wait_for_url("**action=export.**")
    page.locator("#audit-rows tr", has_text="viewer@acme.test").wait_for()
    listing = page.locator("#audit-rows").inner_text()
    assert listing.count("export.members") == 2 and "owner@acme.test" in listing
    viewers = page.locator("#audit-rows tr", has_text="viewer@acme.test")
    viewers.locator("summary").click()
    shown = viewers.locator("pre.data").inner_text()
    assert '"rows": 1' in shown and '"q": "u1"' in shown and '"complete": true' in shown


@pytest.fixture
def busy(shop, actor):
    soon = (clock.now() + timedelta(days=3)).isoformat()
    for i in range(60):  # more than a page of the full list
        ledger.earn(shop.id, actor, user_id="u100", points_amount=i + 1, category="login",
                    expires_at=soon)
    with clock.frozen(clock.now() - timedelta(days=60)):
        ledger.earn(shop.id, actor, user_id="u100", points_amount=4321, category="login")
    return shop


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_chart_period_is_chosen_in_place_and_kept_in_the_url(page, server, busy, language):
    signed_in_at(page, server, "viewer@acme.test", "/t/acme/", language)
    mark_page(page)
    heading = page.locator("#chart-h")
    assert ("30" in heading.inner_text()) and "4,321" not in page.locator("#chart").inner_text()
    page.locator("#chart-days-90").click()
    page.wait_for_url("**/t/acme/?days=90")
    page.wait_for_function("() => document.querySelector('#chart-h').textContent.includes('90')")
    assert not_reloaded(page)
    assert page.locator("#chart-days-90").get_attribute("aria-current") == "true"
    assert "4,321" in page.locator("#chart").inner_text(timeout=2000) or \
        "4,321" in page.locator("#chart details").text_content()
    page.locator("#chart-days-7").click()
    page.wait_for_url("**/t/acme/?days=7")
    page.wait_for_function("() => document.querySelector('#chart-h').textContent.includes('7')")
    assert len(page.locator("#chart details tbody tr").all()) == 7 and not_reloaded(page)
    page.go_back()  # the URL is the state: back to 90 days
    page.wait_for_function("() => document.querySelector('#chart-h').textContent.includes('90')")
    if language == "zh":
        assert "最近 90 天" in heading.inner_text()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_chart_period_works_without_javascript(browser, request, server, busy, language):
    with new_tab(browser, request, java_script_enabled=False) as tab:
        signed_in_at(tab, server, "viewer@acme.test", "/t/acme/", language)
        tab.locator("#chart-days-7").click()
        tab.wait_for_url("**/t/acme/?days=7")
        assert len(tab.locator("#chart details tbody tr").all()) == 7
        assert tab.locator("#chart-days-7").get_attribute("aria-current") == "true"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_expiring_list_leads_to_every_lot(page, server, busy, language):
    signed_in_at(page, server, "support@acme.test", "/t/acme/", language)
    page.locator('a[href="/t/acme/expiring-points/"]').click()
    page.wait_for_url("**/t/acme/expiring-points/")
    assert page.locator("#expiring-rows tr").count() == 51  # 50 lots and "Load more"
    mark_page(page)
    page.locator("#expiring-more a").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#expiring-rows tr').length === 60")
    assert not_reloaded(page) and page.locator("#expiring-more").count() == 0
    points = [int(re.sub(r"\D", "", t)) for t in
              page.locator("#expiring-rows td.num").all_inner_texts()]
    assert sorted(points) == list(range(1, 61))
    page.locator("#expiring-rows a", has_text="Wang Fang").first.click()
    page.wait_for_url("**/members/u100/")
    if language == "zh":
        assert page.locator("html").get_attribute("lang") == "zh-CN"


@pytest.mark.parametrize("language", LANGUAGES)
def test_error_pages_show_the_request_id(failing, page, server, shop, language):
    speaks(language, "viewer@acme.test")
    signed_in(page, server, "viewer@acme.test")
    for url, status in (("/t/acme/settings", 403), ("/t/acme/members/nobody/", 404),
                        ("/t/acme/boom", 500)):
        response = page.goto(server + url)
        assert response.status == status
        shown = page.locator("[data-request-id]").inner_text()
        assert shown == response.headers["x-request-id"], url
        assert "secret internals" not in page.content()
    if language == "zh":
        assert "请求编号" in page.locator("main").inner_text()
    engine = db.engine  # every statement fails: the database is down

    def down(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    event.listen(engine, "before_cursor_execute", down)
    try:
        response = page.goto(f"{server}/t/acme/members/")
        assert response.status == 503
        assert page.locator("[data-request-id]").inner_text() == response.headers["x-request-id"]
    finally:
        event.remove(engine, "before_cursor_execute", down)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_printed_sign_in_address_and_accounts_work(app, page, server, language):
    """What `make run` prints (seed-demo --host --port), first run and later: the
    address opens the sign-in page, and the printed owner account signs in."""
    from app.cli.demo import seed_demo

    host, port = re.match(r"http://([\d.]+):(\d+)", server).groups()
    runner = app.test_cli_runner()
    first = runner.invoke(seed_demo, ["--members", "10", "--if-empty", "--host", host,
                                      "--port", port])
    again = runner.invoke(seed_demo, ["--if-empty", "--host", host, "--port", port])
    for output in (first.output, again.output):
        assert first.exit_code == 0 and again.exit_code == 0, output
        url, email, password = re.search(r"sign in at (\S+) as (\S+) / (\S+)", output).groups()
        assert url == f"{server}/login"
    speaks(language, email)
    sign_in(page, server, email, password)  # at `url`, the printed address
    page.goto(f"{server}/t/demo/")
    assert page.locator("h1").inner_text()
    if language == "zh":
        assert page.locator("html").get_attribute("lang") == "zh-CN"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("width", [390, 1280])
def test_the_new_pages_pass_axe_and_fit_a_phone(page, server, busy, language, width):
    speaks(language, "owner@acme.test")
    page.set_viewport_size({"width": width, "height": 900})
    with_axe(page)
    signed_in(page, server, "owner@acme.test")
    found = {}
    for url in ("/t/acme/?days=90", "/t/acme/?days=7", "/t/acme/expiring-points/",
                "/t/acme/members/nobody/", "/t/acme/audit/?action=export."):
        page.goto(server + url)
        violations = axe_violations(page)
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        if violations or wide > width:
            found[url] = (violations, wide)
    assert found == {}
