"""Token routes and the bearer-token decorator every other route wears."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, g, request
from flask_babel import gettext as _

from app import envelope
from app.api import bp, parsing, ratelimit
from app.request_context import client_ip, request_id
from app.services import api_auth, permissions
from app.services.api_auth import Principal
from app.services.context import Actor
from app.services.errors import AUTHENTICATION_REQUIRED, DomainError, ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise DomainError(AUTHENTICATION_REQUIRED)
    return token


def principal() -> Principal:
    return g.api_principal


def actor() -> Actor:
    """The integration as the audit log and the ledger record it."""
    p: Principal | None = g.get("api_principal")
    ua = request.user_agent.string or None
    if p is None:
        return Actor("anonymous", None, "", client_ip(), ua, request_id())
    return Actor("api_client", p.client_pk, p.client_name, client_ip(), ua, request_id())


def requires(*needed: str, limit: Callable[[F], F] = ratelimit.authenticated,
             query: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Authenticate the bearer token (an unauthenticated request counts against
    the address's anonymous limit), check `needed` permissions and the query
    parameters (`query`: the ones allowed), then apply `limit` (which runs after
    us, so it can key on the client)."""
    def decorate(view: F) -> F:
        limited = limit(view)

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ratelimit.before_authentication()
            g.api_principal = api_auth.authenticate(bearer_token())
            permissions.require(g.api_principal.permissions, *needed)
            parsing.check_query(query)
            # Flask-Limiter's wrapper costs a tenth of a cached read even when
            # limits are off (it identifies the route and consults its manager
            # before finding out): skip it then, as before_authentication does.
            if not current_app.config["RATELIMIT_ENABLED"]:
                return view(*args, **kwargs)
            return limited(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
    return decorate


def _credentials(*names: str) -> dict[str, str]:
    parsing.check_query(())
    body = parsing.json_object(names)
    errors = {n: [_("This field is required.")] for n in names
              if not isinstance(body.get(n), str) or not body.get(n)}
    if errors:
        raise ValidationFailed(errors)
    return body


@bp.post("/v1/auth/token/")
@ratelimit.anonymous
def token() -> Response:
    body = _credentials("client_id", "client_secret")
    pair = api_auth.issue(body["client_id"], body["client_secret"], actor())
    return envelope.success(pair.as_dict(), headers={"Cache-Control": "no-store"})


@bp.post("/v1/auth/refresh/")
@bp.post("/auth/refresh/", endpoint="refresh_alias")
@ratelimit.anonymous
def refresh() -> Response:
    body = _credentials("refresh_token")
    pair = api_auth.refresh(body["refresh_token"], actor())
    return envelope.success(pair.as_dict(), headers={"Cache-Control": "no-store"})
