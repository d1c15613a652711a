"""Both catalogues are complete, and a zh-CN reader gets Chinese pages and errors."""
from __future__ import annotations

import re
import subprocess
import sys

from babel.messages.pofile import read_po

from app.envelope import error_body
from tests.conftest import ROOT, PASSWORD
from tests.webtools import Portal, text

CATALOGUES = ("en", "zh_Hans_CN")


def _extract(tmp_path) -> list[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
                    str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext", "-o", str(pot),
                    str(ROOT)], check=True, cwd=ROOT, capture_output=True)
    with pot.open("rb") as handle:
        return [m.id for m in read_po(handle) if m.id]


def test_every_extracted_message_is_translated_in_both_catalogues(tmp_path):
    wanted = _extract(tmp_path)
    assert len(wanted) > 300  # templates and app/services/*.py alike
    for locale in CATALOGUES:
        with (ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
            catalogue = read_po(f)
        missing = [m for m in wanted if m not in catalogue or not catalogue[m].string
                   or catalogue[m].fuzzy]
        assert missing == [], f"{locale}: {missing[:10]}"
        for message in catalogue:
            if message.id and message.string:
                # A plural (ngettext) has a tuple of ids and of forms; each form
                # names the placeholders of the singular.
                ids = message.id if isinstance(message.id, tuple) else (message.id,)
                forms = message.string if isinstance(message.string, tuple) else \
                    (message.string,)
                for form in forms:
                    assert form, message.id
                    assert sorted(set(re.findall(r"%\(\w+\)s", ids[0]))) == \
                        sorted(set(re.findall(r"%\(\w+\)s", form))), message.id


def test_the_service_messages_are_in_the_catalogue():
    with (ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalogue = read_po(f)
    assert catalogue["The member does not have enough points."].string == "该会员的积分不足。"
    assert catalogue["Not a valid category."].string


def test_a_page_follows_accept_language(app, tenant, make_staff, fast_passwords):
    user = make_staff(tenant, "owner")
    portal = Portal(app.test_client())
    assert "登录" in text(portal.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}))
    assert "Sign in" in text(portal.get("/login", headers={"Accept-Language": "en"}))
    portal.login(user.email, PASSWORD)
    page = text(portal.get("/t/acme/", headers={"Accept-Language": "zh-CN"}))
    assert "仪表盘" in page and 'lang="zh-CN"' in page


def test_the_saved_choice_beats_accept_language(app, tenant, make_staff, fast_passwords):
    user = make_staff(tenant, "viewer")
    portal = Portal(app.test_client())
    portal.login(user.email, PASSWORD)
    portal.post("/language", {"locale": "zh_Hans_CN"})
    page = text(portal.get("/t/acme/members/", headers={"Accept-Language": "en"}))
    assert "会员" in page and "Members" not in page


def test_an_api_error_speaks_chinese(app, tenant):
    response = Portal(app.test_client()).get("/api/v1/nowhere/",
                                             headers={"Accept-Language": "zh-CN"})
    body = response.get_json()
    assert response.status_code == 404 and body["error"]["code"] == "NOT_FOUND"
    assert body["error"]["message"] == "未找到该资源。"
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert error_body("INSUFFICIENT_POINTS")["error"]["message"] == "该会员的积分不足。"
        assert error_body("INSUFFICIENT_POINTS")["error"]["code"] == "INSUFFICIENT_POINTS"


def test_vocabulary_names_follow_each_requests_language(app):
    """The names are translated once per locale and kept: alternating languages
    must each get their own, whichever came first."""
    from flask_babel import refresh

    from app.web import formatting, labels

    for accept, earn, sign_in in [("zh-CN", "获得", "签到"), ("en", "Earn", "Sign-in"),
                                  ("zh-CN", "获得", "签到")]:
        with app.test_request_context(headers={"Accept-Language": accept}):
            refresh()  # the test's app context outlives each request's; a real one does not
            assert labels.label(labels.KINDS, "earn") == earn
            assert formatting.label_lookup(labels.CATEGORY_LABELS)("login") == sign_in
            assert labels.label(labels.KINDS, "no_such_kind") == "no_such_kind"


def test_choices_and_explicit_locales_get_their_own_language(app):
    from flask_babel import refresh

    from app.web import labels
    from app.web.members.forms import HistoryFilterForm, category_choices, kind_choices

    for accept, earn, sign_in, all_kinds in [("zh-CN", "获得", "签到", "全部类型"),
                                             ("en", "Earn", "Sign-in", "All kinds"),
                                             ("zh-CN", "获得", "签到", "全部类型")]:
        with app.test_request_context(headers={"Accept-Language": accept}):
            refresh()
            assert kind_choices("-")["earn"] == earn and next(iter(kind_choices("-"))) == ""
            assert category_choices()["login"] == sign_in
            assert next(iter(HistoryFilterForm().kind.choices.items())) == ("", all_kinds)
            # A locale given explicitly wins over the request's.
            assert labels.translated(labels.KINDS, "en")["earn"] == "Earn"
            assert labels.translated(labels.KINDS, "zh_Hans_CN")["earn"] == "获得"
