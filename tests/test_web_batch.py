from __future__ import annotations

import io

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
