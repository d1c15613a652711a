"""Issue 15 item 11: every error page (403, 404, 500, 503, the maintenance page)
shows the request id to quote to support, in both languages; the 503 page
renders with every database statement failing."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from app.extensions import db
from tests.webtools import text

LANGS = {"en": "quote this request id", "zh-CN": "请提供此请求编号"}


def _shown_id(response) -> str:
    return re.search(r"<code data-request-id>([^<]+)</code>", text(response)).group(1)


@pytest.mark.parametrize("lang", LANGS)
def test_403_404_and_500_pages_show_the_request_id(failing, people, lang):
    headers = {"Accept-Language": lang}
    for who, url, status in (("viewer", "/t/acme/settings", 403),
                             ("owner", "/t/acme/members/nobody/", 404),
                             ("owner", "/t/acme/boom", 500)):
        response = people[who].get(url, headers=headers)
        assert response.status_code == status
        assert LANGS[lang] in text(response)
        assert _shown_id(response) == response.headers["X-Request-ID"]


def test_a_request_id_sent_by_a_proxy_is_the_one_shown(people):
    response = people["owner"].get("/t/acme/nowhere", headers={"X-Request-ID": "edge-42.a"})
    assert response.status_code == 404 and _shown_id(response) == "edge-42.a"
    hostile = people["owner"].get("/t/acme/nowhere", headers={"X-Request-ID": "<b>x</b>"})
    assert "<b>x</b>" not in text(hostile) and _shown_id(hostile) != "<b>x</b>"


def test_an_htmx_error_message_carries_the_request_id(people):
    response = people["viewer"].get("/t/acme/settings", htmx=True)
    assert response.status_code == 403
    assert f"(Request id: {response.headers['X-Request-ID']})" in text(response)


@pytest.mark.parametrize("lang", LANGS)
def test_the_503_page_renders_with_the_database_down(app, people, lang):
    def down(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", down)
    try:
        response = people["owner"].get("/t/acme/members/", headers={"Accept-Language": lang})
    finally:
        event.remove(engine, "before_cursor_execute", down)
    assert response.status_code == 503
    assert LANGS[lang] in text(response)
    assert _shown_id(response) == response.headers["X-Request-ID"]
