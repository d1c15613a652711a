from __future__ import annotations

import io
import logging
import re

from app.services.permissions import EARN, ROLE_PERMISSIONS
from tests.webtools import KEY_RE, balance, check_access, is_full_page, text


def _upload(portal, content: str, htmx: bool = False):
    return portal.post("/t/acme/batch-earn/", {"file": (io.BytesIO(content.encode()), "e.csv")},
                       htmx=htmx, content_type="multipart/form-data")


def test_it_checks_access(people):
    check_access(people, "GET", "/t/acme/batch-earn/", EARN, ROLE_PERMISSIONS)
    check_access(people, "POST", "/t/acme/batch-earn/", EARN, ROLE_PERMISSIONS)
    check_access(people, "POST", "/t/acme/batch-earn/confirm", EARN, ROLE_PERMISSIONS)


def test_a_bad_row_is_shown_and_nothing_applies(people, tenant, make_member):
    make_member(tenant, "a")
    response = _upload(people["support"], "user_id,points_amount,category,reason\n"
                                          "a,10,login,ok\nghost,5,login,\na,abc,nope,\n", htmx=True)
    body = text(response)
    assert response.status_code == 422 and not is_full_page(response)
    assert "No member with this user id." in body and "Not a valid category." in body
    assert "Apply all" not in body
    assert balance(tenant.id, "a") == 0


def test_a_good_file_previews_then_applies_once(people, tenant, make_member):
    make_member(tenant, "a")
    make_member(tenant, "b")
    preview = _upload(people["support"], "user_id,points_amount,category,reason\n"
                                         "a,10,login,hi\nb,20,referral,\"x, y\"\n")
    body = text(preview)
    assert preview.status_code == 200 and is_full_page(preview) and "Apply all 2 rows" in body
    assert balance(tenant.id, "a") == 0  # the preview changed nothing
    key = KEY_RE.search(body).group(1)
    csv_text = "user_id,points_amount,category,reason\na,10,login,hi\nb,20,referral,\"x, y\"\n"
    data = {"idempotency_key": key, "csv_text": csv_text}
    assert people["support"].post("/t/acme/batch-earn/confirm", data).status_code == 302
    assert people["support"].post("/t/acme/batch-earn/confirm", data).status_code == 302
    assert balance(tenant.id, "a") == 10 and balance(tenant.id, "b") == 20


def test_a_file_without_the_columns_is_refused(people):
    response = _upload(people["owner"], "who,how much\nx,1\n")
    assert response.status_code == 422 and "missing" in text(response)
    assert _upload(people["owner"], "").status_code == 422


def test_confirm_without_csrf_is_refused(people):
    assert people["owner"].post("/t/acme/batch-earn/confirm", {"csv_text": "x"},
                                csrf=False).status_code == 400


def test_a_preview_logs_no_business_event(people, tenant, make_member, caplog):
    """A preview runs the real batch and rolls it back: nothing happened, so
    nothing may be logged as done (confirming it logs the earns)."""
    make_member(tenant, "a")
    csv_text = "user_id,points_amount,category,reason\na,10,login,hi\n"
    events_log = logging.getLogger("jifen")  # does not propagate to caplog's root handler
    events_log.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="jifen")  # whatever level an earlier test left
    try:
        caplog.clear()
        preview = _upload(people["support"], csv_text)
        previewed = [r.event for r in caplog.records if r.getMessage() == "business_event"]
        key = KEY_RE.search(text(preview)).group(1)
        caplog.clear()
        people["support"].post("/t/acme/batch-earn/confirm",
                               {"idempotency_key": key, "csv_text": csv_text})
        confirmed = [r.event for r in caplog.records if r.getMessage() == "business_event"]
    finally:
        events_log.removeHandler(caplog.handler)
    assert "Apply all 1 rows" in text(preview) and previewed == []
    assert confirmed and balance(tenant.id, "a") == 10


def test_the_preview_names_each_rows_physical_line(people, tenant, make_member):
    """Blank lines and a quoted cell over two lines still count as the file's lines."""
    make_member(tenant, "a")
    response = _upload(people["support"], "user_id,points_amount,category,reason\n"
                                          "a,10,login,ok\n"
                                          "\n"
                                          "a,5,login,\"two\nlines\"\n"
                                          "\n"
                                          "ghost,5,login,\n", htmx=True)
    body = text(response)
    assert response.status_code == 422
    lines = re.findall(r"<tr( class=\"error\")?>\s*<td>(\d+)</td><td>([^<]*)</td>", body)
    assert lines == [("", "2", "a"), ("", "4", "a"), (' class="error"', "7", "ghost")]
