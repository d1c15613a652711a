"""Browser tests: Playwright driving Debian's chromium against the app served on
127.0.0.1 by a thread of the test process. One browser per session; each test
gets its own context and page, and leaves a screenshot in tests/artifacts/ when
it fails."""
from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import update
from werkzeug.serving import make_server

from app.extensions import db
from app.models import StaffUser
from tests.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def server(app, fast_passwords):
    """The app on a free port of 127.0.0.1; each request gets its own contexts."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    # shutdown() waits for the loop's next poll: at the default half second, that
    # was half a second at the end of every browser test.
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)


@contextmanager
def new_tab(browser, request, **options) -> Iterator:
    """A page in a context of its own (1280 by 900, en-GB, unless `options` say
    otherwise). Closed at the end; at a fixture's teardown after the test failed,
    its screenshot goes to tests/artifacts/ first."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900},
                                     "locale": "en-GB", **options})
    try:
        tab = context.new_page()
        tab.set_default_timeout(8000)
        yield tab
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture
def page(browser, request):
    with new_tab(browser, request) as tab:
        dialogs: list[str] = []
        tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        tab.dialogs = dialogs  # type: ignore[attr-defined]
        yield tab


def speaks(language: str, *emails: str) -> None:
    """These staff members read the portal in `language`: "en" (as they start) or "zh"."""
    if language == "zh":
        db.session.execute(update(StaffUser).where(StaffUser.email.in_(emails))
                           .values(locale="zh_Hans_CN"))
        db.session.commit()


def sign_in(page, server: str, email: str, password: str = PASSWORD, *,
            by_keyboard: bool = False) -> None:
    """Sign in on the login page: by its English labels and button, or, in any
    language, by typing into the fields and pressing Enter."""
    page.goto(f"{server}/login")
    if by_keyboard:
        page.locator("input[name=email]").fill(email)
        page.locator("input[name=password]").fill(password)
        page.locator("input[name=password]").press("Enter")
    else:
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def signed_in(page, server: str, email: str, password: str = PASSWORD) -> None:
    """Signed in by the login form's POST from the context's own HTTP client (its
    cookies are the browser's), without drawing the login page and the page after
    it: for the tests whose subject is not signing in (sign_in is theirs)."""
    login = page.request.get(f"{server}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text()).group(1)
    answer = page.request.post(f"{server}/login", max_redirects=0, form={
        "csrf_token": token, "email": email, "password": password})
    assert answer.status == 302 and "/login" not in answer.headers["location"], answer.status


def signed_in_at(page, server: str, email: str, path: str, language: str = "en") -> None:
    """`email`, reading the portal in `language`, signed in and on the page at `path`."""
    speaks(language, email)
    signed_in(page, server, email)
    page.goto(server + path)


def with_axe(page) -> None:
    """Load axe-core into every document of this page's context: an init script
    goes in through the DevTools protocol, so no Content-Security-Policy blocks it."""
    page.context.add_init_script(path=str(AXE))


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2.x A/AA rules (and best practices) on the current page."""
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}}); "
        "return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
        "nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }")
    return json.loads(json.dumps(result))


def mark_page(page) -> None:
    """Set a flag that a full page load would wipe: its survival proves no reload."""
    page.evaluate("() => { window.__noReload = true; }")


def not_reloaded(page) -> bool:
    return page.evaluate("() => window.__noReload === true")
