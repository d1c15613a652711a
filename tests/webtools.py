"""Helpers of the portal's tests: a signed-in browser-like client and the people
every route is tried with (healthchecks' alice/bob/charlie)."""
from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')
HTMX = {"HX-Request": "true"}


class _FreshContextClient:
    """Each request in its own application context, as in production: the test's
    own app context would otherwise share `g` (and Flask-Login's cached user)
    between requests and between clients."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def get(self, *args: Any, **kwargs: Any) -> Any:
        with self._client.application.app_context():
            return self._client.get(*args, buffered=True, **kwargs)

    def post(self, *args: Any, **kwargs: Any) -> Any:
        with self._client.application.app_context():
            return self._client.post(*args, buffered=True, **kwargs)


class Portal:
    """A test client that signs in through /login and sends the CSRF token like
    the pages do (a form field, or the X-CSRFToken header for htmx)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = _FreshContextClient(client)
        self.token: str | None = None

    def login(self, email: str, password: str) -> Any:
        page = self.client.get("/login")
        token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
        response = self.client.post("/login", data={"email": email, "password": password,
                                                    "csrf_token": token})
        self.refresh_token()
        return response

    def refresh_token(self) -> str:
        page = self.client.get("/login")  # signed in: a redirect; the session keeps its token
        if page.status_code == 200:
            self.token = CSRF_RE.search(page.get_data(as_text=True)).group(1)
        else:
            home = self.client.get("/", follow_redirects=True)
            match = CSRF_RE.search(home.get_data(as_text=True))
            self.token = match.group(1) if match else None
        return self.token

    def get(self, url: str, htmx: bool = False, headers: dict | None = None, **kwargs: Any) -> Any:
        return self.client.get(url, headers={**(HTMX if htmx else {}), **(headers or {})},
                               **kwargs)

    def post(self, url: str, data: dict | None = None, htmx: bool = False, csrf: bool = True,
             **kwargs: Any) -> Any:
        data = dict(data or {})
        headers = dict(HTMX) if htmx else {}
        if csrf:
            if htmx:
                headers["X-CSRFToken"] = self.token
            else:
                data.setdefault("csrf_token", self.token)
        return self.client.post(url, data=data, headers=headers, **kwargs)


def signed_in(app: Any, tenant: Any, make_staff: Any, password: str,
              roles: tuple[str, ...] = ("owner", "admin", "support", "viewer")) -> dict[str, Portal]:
    """A signed-in client for each role, each a new member of the tenant's staff."""
    result = {}
    for role in roles:
        user = make_staff(tenant, role)
        portal = Portal(app.test_client())
        portal.login(user.email, password)
        result[role] = portal
    return result


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def is_full_page(response: Any) -> bool:
    return "<html" in text(response)


def check_access(people: dict[str, Portal], method: str, url: str, needed: str | None,
                 roles: dict[str, frozenset[str]], data: dict | None = None) -> None:
    """Every role of the tenant: 403 without the permission, anything else with it;
    the other tenant's owner: 404."""
    for who, portal in people.items():
        response = portal.get(url) if method == "GET" else portal.post(url, data=data or {})
        if who == "outsider":
            assert response.status_code == 404, (who, method, url, response.status_code)
        elif needed is None or needed in roles[who]:
            assert response.status_code not in (403, 404, 500), \
                (who, method, url, response.status_code)
        else:
            assert response.status_code == 403, (who, method, url, response.status_code)


def balance(tenant_id: int, user_id: str) -> int:
    """A fresh read: the test's own session may hold the member from before a request."""
    from app.extensions import db
    from app.services import members

    db.session.rollback()  # end its read transaction: SQLite reads see a snapshot
    return members.get_profile(tenant_id, user_id).total_points


def fresh() -> None:
    """Forget what the test's own session read before the last request."""
    from app.extensions import db

    db.session.rollback()
    db.session.expire_all()
