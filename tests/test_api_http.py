"""HTTP around the API's routes: OPTIONS, and the API's presence itself."""
from __future__ import annotations

import sys

import pytest

from app import create_app
from app import config as app_config
from tests.api_fixtures import assert_error


@pytest.mark.parametrize("path, allowed", [
    ("/api/v1/points/earn/", "OPTIONS, POST"),
    ("/api/v1/points/profiles/", "GET, HEAD, OPTIONS, POST"),
    ("/api/v1/points/profiles/alice/", "GET, HEAD, OPTIONS"),
    ("/api/v1/auth/token/", "OPTIONS, POST"),
    ("/api/v1/openapi.json", "GET, HEAD, OPTIONS"),
])
def test_options_names_the_methods_with_no_body(client, path, allowed):
    response = client.options(path)
    assert response.status_code == 204
    assert response.headers["Allow"] == allowed
    assert response.get_data() == b""
    assert "Content-Type" not in response.headers
    assert response.headers["X-Request-ID"]


def test_options_of_an_unknown_api_path_is_the_404_envelope(client):
    assert_error(client.options("/api/v1/nothing/"), 404, "NOT_FOUND")


def test_a_broken_import_in_the_api_stops_the_app(monkeypatch, database_url):
    """It used to be swallowed, and the app started without its whole API."""
    monkeypatch.setitem(sys.modules, "app.api", None)  # importing it now fails
    with pytest.raises(ImportError):
        create_app(app_config.TestingConfig(database_url))
