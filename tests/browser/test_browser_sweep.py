"""Every page of the portal, found in the app's URL map rather than listed by hand,
at phone and desktop width in English and Chinese: no axe violation, no console
error, no sideways scroll. A new page is swept the day it is added; a URL
parameter nobody knows how to fill fails the sweep until FILL learns it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.cli import demo
from app.extensions import db
from app.models import (ApiClient, EarningRule, Level, Member, PointTransaction,
                        ProgrammeEvent, StaffMembership, StaffUser, VipTag, WebhookEndpoint)
from app.services import api_clients, ledger, members, staff, tenants
from app.services.webhooks import endpoints as webhook_endpoints
from tests.browser.conftest import axe_violations, new_tab, sign_in, with_axe

pytestmark = pytest.mark.browser

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
LOCALES = {"en": "en-GB", "zh": "zh-CN"}

# Routes that are not pages a person looks at; each with its reason. Reviewed:
# an entry here hides a route from the sweep, so it must say why that is right.
NOT_PAGES = {
    "static": "files (css, js, images), not pages",
    "home.favicon": "the icon file browsers ask for",
    "ops_health.health": "health check answering JSON to load balancers",
    "ops_health.live": "liveness probe answering JSON",
    "ops_metrics.scrape": "Prometheus text for the metrics scraper",
    "members.export": "a CSV download",
    "members.reverse_cancel": "htmx partial emptying the reversal panel; "
                              "without htmx a redirect to members.show (swept)",
    "vip.grant": "GET is the conflict form's htmx 'cancel' partial; "
                 "without htmx a redirect to members.show (swept)",
}
# Blueprints whose every route is the JSON API (their GETs answer JSON to clients).
API_BLUEPRINTS = {"api"}
# Pages seen signed out; every other page is seen by the owner, who holds every permission.
SIGNED_OUT = {"auth.login"}
# Error pages are pages too.
ERROR_PAGES = [("/t/demo/members/no-such-member/", 404), ("/t/no-such-programme/", 404),
               ("/t/second/staff/", 403)]


@pytest.fixture
def demo_shop(app, fast_passwords):
    """The `flask seed-demo` programme, small, plus what the demo does not make."""
    demo.build_demo(member_count=10)
    tenant_id = tenants.get_by_slug(demo.DEMO_SLUG).id
    owner = demo._actor("sweep")
    # A second programme where the owner only looks: "/" becomes the programme picker,
    # and a page the role may not open shows the 403 page.
    second = tenants.create("second", "Second Shop 第二店", owner)
    staff.create_or_add_role(second.id, owner, email=demo.OWNER_EMAIL, role="viewer")
    api_clients.create(tenant_id, owner, name="Shop backend", permissions="can_earn_points")
    webhook_endpoints.create(tenant_id, owner, url="https://hooks.example.com/jifen",
                             event_types=["points.earned"])
    user_id = _first(select(Member.user_id).where(Member.is_points_enabled.is_(True))
                     .order_by(Member.id))
    earned = ledger.earn(tenant_id, owner, user_id=user_id, points_amount=50,
                         category="manual", reason="sweep")
    ledger.reverse(tenant_id, owner, transaction_id=earned.transaction.id, reason="sweep")
    members.create(tenant_id, owner, user_id="sweep-empty", display_name="No history")
    return user_id


def _first(statement):
    value = db.session.execute(statement.limit(1)).scalar()
    assert value is not None, f"the demo data has nothing for {statement}"
    return value


def fillers(user_id: str) -> dict[str, object]:
    """A value for each URL parameter: ids of the demo data that the page can show."""
    reversed_ids = select(PointTransaction.reverses_id).where(
        PointTransaction.reverses_id.is_not(None))
    reversible = (select(PointTransaction.id)
                  .where(PointTransaction.kind == "earn", PointTransaction.id.not_in(reversed_ids),
                         PointTransaction.member_id == select(Member.id).where(
                             Member.user_id == user_id).scalar_subquery())
                  .order_by(PointTransaction.id))
    return {
        "slug": demo.DEMO_SLUG,
        "user_id": user_id,
        "tx_id": _first(reversible),
        "level_id": _first(select(Level.id).order_by(Level.id)),
        "tag_id": _first(select(VipTag.id).order_by(VipTag.id)),
        "rule_id": _first(select(EarningRule.id).order_by(EarningRule.id)),
        "event_id": _first(select(ProgrammeEvent.event_id).order_by(ProgrammeEvent.id)),
        "endpoint_id": _first(select(WebhookEndpoint.id)),
        "client_pk": _first(select(ApiClient.id)),
        "staff_id": _first(select(StaffMembership.staff_id).join(StaffUser)
                           .where(StaffMembership.role == "support")),
        "code": "INSUFFICIENT_POINTS",
    }


def portal_pages(app, values: dict[str, object]) -> tuple[list[str], list[str]]:
    """(signed-out URLs, signed-in URLs) of every GET route that is a page."""
    signed_out, signed_in, unfilled = [], [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        if rule.endpoint.split(".")[0] in API_BLUEPRINTS:
            continue
        missing = sorted(rule.arguments - values.keys())
        if missing:
            unfilled.append(f"{rule.rule} ({rule.endpoint}) needs {', '.join(missing)}")
            continue
        url = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
        (signed_out if rule.endpoint in SIGNED_OUT else signed_in).append(url)
    assert not unfilled, ("the sweep cannot fill these routes: add their parameters to "
                          "fillers() or, for a non-page, to NOT_PAGES with a reason: "
                          + "; ".join(unfilled))
    return signed_out, signed_in


def test_the_skip_list_names_routes_that_exist(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(NOT_PAGES) <= endpoints and set(SIGNED_OUT) <= endpoints


def test_the_sweep_fails_on_a_route_it_cannot_fill(app):
    app.add_url_rule("/t/<slug>/gadgets/<int:gadget_id>/", "sweep_probe.gadget",
                     lambda slug, gadget_id: "")
    with pytest.raises(AssertionError, match="gadget_id"):
        portal_pages(app, {"slug": "demo"})


# The innermost elements reaching past the right edge, outside boxes that scroll or clip
# them (an absolutely positioned one escapes those unless they are its containing block).
OVERFLOWING = """() => {
  const edge = window.innerWidth, out = [];
  const past = el => el.getBoundingClientRect().right > edge;
  const clipped = el => {
    if (getComputedStyle(el).position === 'absolute') return false;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement)
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    if (!past(el) || clipped(el) || [...el.children].some(past)) continue;
    const cls = typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls + ' '
             + Math.round(el.getBoundingClientRect().right) + 'px');
    if (out.length === 4) break;
  }
  return out.join(', ');
}"""


def _watch(page, problems: list[str]) -> None:
    page.on("console", lambda m: m.type == "error" and problems.append(
        f"console: {m.text} ({m.location.get('url')})"))
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))


def _check(page, url: str, found: dict[str, list], problems: list[str],
           status: int = 200) -> None:
    problems.clear()
    response = page.goto(url)
    page.wait_for_load_state("load")
    issues = []
    if response is None or response.status != status:
        issues.append(f"status {response.status if response else 'none'}")
    width = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        issues.append(f"scrolls sideways: {width[0]} px wide in {width[1]} px, past the edge: "
                      f"{page.evaluate(OVERFLOWING)}")
    issues += [f"axe {v['id']}: {v['help']} at {v['nodes']}" for v in axe_violations(page)]
    # The console is read last: axe's run is the time late messages (favicon, htmx
    # init) take to arrive, which a fixed wait used to give them. An error page's own
    # status is logged as a failed load: expected, not a fault.
    issues += [p for p in problems if status == 200 or not p.endswith(f"({url})")]
    if issues:
        found[url] = issues


@pytest.mark.parametrize("lang", LOCALES)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_page_is_accessible_and_fits(browser, request, server, app, demo_shop, viewport,
                                           lang):
    signed_out, signed_in = portal_pages(app, fillers(demo_shop))
    assert len(signed_in) >= 15  # the map really was read
    with new_tab(browser, request, viewport=VIEWPORTS[viewport], locale=LOCALES[lang]) as page:
        with_axe(page)
        problems: list[str] = []
        _watch(page, problems)
        found: dict[str, list] = {}
        for url in signed_out:
            _check(page, server + url, found, problems)
        sign_in(page, server, demo.OWNER_EMAIL, demo.OWNER_PASSWORD, by_keyboard=True)
        assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
        for url in signed_in:
            _check(page, server + url, found, problems)
        for url, status in ERROR_PAGES:
            _check(page, server + url, found, problems, status)
    assert found == {}, "\n".join(f"{url}: {issue}" for url, issues in found.items()
                                  for issue in issues)
