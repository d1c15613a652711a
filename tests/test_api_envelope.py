"""The error envelope for everything that can go wrong under /api/, the request
id, and the /docs/errors/ pages generated from the same registry."""
from __future__ import annotations

import pytest

from app import config, create_app
from app.services.errors import registry
from tests.api_fixtures import assert_error, assert_success


def test_an_unknown_api_path_is_a_not_found_envelope(full):
    assert_error(full.get("/api/v1/nothing/here/"), 404, "NOT_FOUND")
    assert_error(full.post("/api/v2/points/earn/", json={}), 404, "NOT_FOUND")


def test_a_path_without_its_trailing_slash_is_not_the_route(full):
    response = full.get("/api/v1/points/user-levels")
    # Werkzeug redirects GETs to the canonical path; the contract's path has the slash.
    assert response.status_code in (308, 404)


def test_a_wrong_method_lists_the_allowed_ones(full):
    response = full.client.delete("/api/v1/points/earn/", headers=full.headers())
    details = assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in details["allowed_methods"]
    assert "POST" in response.headers["Allow"]
    details = assert_error(full.client.put("/api/v1/points/profiles/"), 405, "METHOD_NOT_ALLOWED")
    assert set(details["allowed_methods"]) >= {"GET", "POST"}


def test_an_unexpected_exception_is_a_500_envelope_without_a_traceback(database_url):
    app = create_app(config.TestingConfig(database_url))

    def explode():
        raise RuntimeError("secret internals: password=hunter2")

    app.add_url_rule("/api/v1/explode/", "explode", explode)
    with app.app_context():
        response = app.test_client().get("/api/v1/explode/")
        details = assert_error(response, 500, "INTERNAL_SERVER_ERROR")
        assert details["error_id"].startswith("ERR_") and details["retry_after"] == 30
        assert "hunter2" not in response.get_data(as_text=True)
        assert "RuntimeError" not in response.get_data(as_text=True)
        from app.extensions import db
        db.session.remove()
        db.engine.dispose()


def test_a_sane_request_id_is_echoed(full):
    response = full.get("/api/v1/nothing/", headers={"X-Request-ID": "trace-42:abc_DEF.1"})
    assert response.headers["X-Request-ID"] == "trace-42:abc_DEF.1"
    assert response.get_json()["error"]["request_id"] == "trace-42:abc_DEF.1"
    ok = full.get("/api/v1/vip/tags/", headers={"X-Request-ID": "trace-43"})
    assert ok.headers["X-Request-ID"] == "trace-43"


@pytest.mark.parametrize("incoming", ["x" * 129, "has space", "<script>", "a/b", "é"])
def test_an_insane_request_id_is_replaced(full, incoming):
    response = full.get("/api/v1/nothing/", headers={"X-Request-ID": incoming})
    generated = response.headers["X-Request-ID"]
    assert generated != incoming and len(generated) == 36
    assert response.get_json()["error"]["request_id"] == generated


def test_the_success_envelope_has_exactly_success_and_data(full):
    assert assert_success(full.get("/api/v1/vip/tags/")) == []


def test_every_code_has_a_documentation_page(client):
    for code, entry in registry().items():
        response = client.get(f"/docs/errors/{code}")
        assert response.status_code == 200, code
        assert response.mimetype == "text/html"
        text = response.get_data(as_text=True)
        assert code in text and str(entry.status) in text
        for detail in entry.details:
            assert detail in text


def test_the_documentation_index_lists_every_code(client):
    text = client.get("/docs/errors/").get_data(as_text=True)
    for code in registry():
        assert f"/docs/errors/{code}" in text


def test_an_unknown_code_has_no_page(client):
    response = client.get("/docs/errors/NO_SUCH_CODE")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_documentation_urls_lead_to_their_pages(full, client):
    url = full.get("/api/v1/nothing/").get_json()["error"]["documentation_url"]
    assert url == "http://localhost/docs/errors/NOT_FOUND"
    assert client.get(url).status_code == 200


def test_the_openapi_document_is_served_without_a_token(client):
    data = client.get("/api/v1/openapi.json")
    assert data.status_code == 200 and data.mimetype == "application/json"
    assert data.get_json()["openapi"].startswith("3.")


def test_api_writes_need_no_csrf_token(full, programme):
    # The portal's forms need one; a token-authenticated API does not.
    assert_success(full.post("/api/v1/points/earn/", json={
        "user_id": "alice", "points_amount": 1, "category": "login"}), 201)
