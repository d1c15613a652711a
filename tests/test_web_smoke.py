def test_it_serves_the_sign_in_page(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b'name="csrf_token"' in response.data


def test_it_answers_unknown_api_paths_with_the_envelope(client):
    response = client.get("/api/v1/nothing-here/", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 404
    body = response.get_json()
    assert body["success"] is False
    assert body["error"]["code"] == "NOT_FOUND"
    assert body["error"]["request_id"] == "abc-123"
    assert response.headers["X-Request-ID"] == "abc-123"
