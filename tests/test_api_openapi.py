"""The OpenAPI document matches the code: every route is in it, and a
schemathesis run over every operation (with a full-permission token) finds no
5xx and no response that the document does not describe."""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks

from app.services.errors import registry

DOCUMENT = "/api/v1/openapi.json"


def _api_rules(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule == DOCUMENT:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        found |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_every_route_is_documented_and_every_operation_exists(app, client):
    doc = client.get(DOCUMENT).get_json()
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert documented == _api_rules(app)


def test_every_error_code_of_the_document_is_registered(client):
    doc = client.get(DOCUMENT).get_json()
    codes = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
    assert set(codes["enum"]) == set(registry())
    known = registry()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    named = response["description"].split("code: ")[1].split(", ")
                    assert all(known[c].status == int(status) for c in named), (path, method)


def test_every_authenticated_operation_documents_401_and_403(client):
    doc = client.get(DOCUMENT).get_json()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if op["security"]:
                assert {"401", "403", "429", "500"} <= set(op["responses"]), (path, method)
            if method == "post" and op["security"]:
                assert {"400", "413", "422"} <= set(op["responses"]), (path, method)


# --------------------------------------------------------------------------- schemathesis
# schemathesis' own pytest plugin does not run under pytest 9 (it reads a private
# attribute of pytest's nodes), so its strategies are driven with Hypothesis here.

OPERATIONS = [
    ("POST", "/api/v1/auth/token/"), ("POST", "/api/v1/auth/refresh/"),
    ("POST", "/api/auth/refresh/"), ("GET", "/api/v1/points/user-levels/"),
    ("GET", "/api/v1/points/profiles/"), ("POST", "/api/v1/points/profiles/"),
    ("GET", "/api/v1/points/profiles/{user_id}/"),
    ("GET", "/api/v1/points/profiles/{user_id}/transactions/"),
    ("POST", "/api/v1/points/profiles/{user_id}/vip-tags/"), ("POST", "/api/v1/points/earn/"),
    ("POST", "/api/v1/points/spend/"), ("POST", "/api/v1/points/adjust/"),
    ("POST", "/api/v1/points/batch-earn/"),
    ("POST", "/api/v1/points/transactions/{transaction_id}/reverse/"),
    ("GET", "/api/v1/vip/tags/"), ("GET", "/api/v1/webhooks/endpoints/"),
    ("POST", "/api/v1/webhooks/endpoints/"), ("DELETE", "/api/v1/webhooks/endpoints/{endpoint_id}/"),
    ("GET", "/api/v1/webhooks/endpoints/{endpoint_id}/deliveries/"),
    ("GET", "/api/v1/earning-rules/"),
    ("POST", "/api/v1/earning-rules/"), ("GET", "/api/v1/earning-rules/{rule_id}/"),
    ("PATCH", "/api/v1/earning-rules/{rule_id}/"), ("POST", "/api/v1/events/"),
    ("POST", "/api/v1/events/preview/"), ("GET", "/api/v1/events/{event_id}/"),
    ("POST", "/api/v1/events/{event_id}/revoke/"),
]
CHECKS = [
    openapi_checks.not_a_server_error if hasattr(openapi_checks, "not_a_server_error")
    else schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.negative_data_rejection,
]
EXAMPLES = 30


def test_the_operations_tried_are_all_of_them(app):
    assert {(path, method.lower()) for method, path in OPERATIONS} == _api_rules(app)


# Operations without parameters or body have no schema to violate.
NO_INPUT = {("GET", "/api/v1/points/user-levels/"), ("GET", "/api/v1/vip/tags/"),
            ("GET", "/api/v1/webhooks/endpoints/")}
CASES = [pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
         for method, path in OPERATIONS
         for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if not (mode == GenerationMode.NEGATIVE and (method, path) in NO_INPUT)]


@pytest.mark.parametrize("method, path, mode", CASES)
def test_the_api_conforms_to_its_document(app, full, programme, method, path, mode):
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app)
    # The token is ours to send: generating (or leaving out) Authorization would
    # only test that we overwrite it.
    schema.config.generation.update(with_security_parameters=False)
    operation = schema[path][method]
    headers = full.headers()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def test_successful_responses_conform_too(app, full, programme, credentials):
    """Generated data rarely names a real member; these requests do, so every
    success response is checked against the document as well."""
    from app.services import ledger
    from tests.api_fixtures import API_ACTOR

    tenant_id = programme["silver"].tenant_id
    ledger.earn(tenant_id, API_ACTOR, user_id="bob", points_amount=900, category="login")
    tx = ledger.earn(tenant_id, API_ACTOR, user_id="alice", points_amount=50,
                     category="login").transaction
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app)
    earn = {"user_id": "alice", "points_amount": 5, "category": "login",
            "expires_at": "2099-01-01T00:00:00Z", "reason": "ok"}
    requests_ = [
        ("POST", "/api/v1/auth/token/", {}, {}, {"client_id": credentials.client_id,
                                                 "client_secret": credentials.client_secret}),
        ("POST", "/api/v1/auth/refresh/", {}, {}, {"refresh_token": full.refresh_token}),
        ("GET", "/api/v1/points/user-levels/", {}, {}, None),
        ("GET", "/api/v1/points/profiles/", {}, {"page_size": 1}, None),
        ("GET", "/api/v1/points/profiles/", {}, {"fields": "user_id,tags"}, None),
        ("POST", "/api/v1/points/profiles/", {}, {}, {"user_id": "zoe", "email": "z@e.io"}),
        ("GET", "/api/v1/points/profiles/{user_id}/", {"user_id": "alice"}, {}, None),
        ("POST", "/api/v1/points/earn/", {}, {}, earn),
        ("POST", "/api/v1/points/spend/", {}, {}, {"user_id": "alice", "points_amount": 1,
                                                   "category": "payment"}),
        ("POST", "/api/v1/points/adjust/", {}, {}, {"user_id": "alice", "points_amount": -1,
                                                    "reason": "fix"}),
        ("POST", "/api/v1/points/batch-earn/", {}, {}, {"operations": [earn, earn]}),
        ("GET", "/api/v1/points/profiles/{user_id}/transactions/", {"user_id": "alice"},
         {"page_size": 2}, None),
        ("POST", "/api/v1/points/transactions/{transaction_id}/reverse/",
         {"transaction_id": tx.id}, {}, {"reason": "undo"}),
        ("GET", "/api/v1/vip/tags/", {}, {}, None),
        ("POST", "/api/v1/points/profiles/{user_id}/vip-tags/", {"user_id": "bob"}, {},
         {"tag_id": programme["silver"].id, "pay_with_points": True}),
        ("POST", "/api/v1/points/profiles/{user_id}/vip-tags/", {"user_id": "bob"}, {},
         {"tag_id": programme["gold"].id}),  # a conflict: 409 must conform as well
    ]
    for method, path, path_parameters, query, body in requests_:
        operation = schema[path][method]
        kwargs = {"path_parameters": path_parameters, "query": query}
        if body is not None:
            kwargs["body"] = body
            kwargs["media_type"] = "application/json"
        case = operation.Case(**kwargs)
        response = case.call_and_validate(headers=full.headers(), checks=CHECKS[:-1])
        assert response.status_code < 300 or response.status_code == 409, (path, response.text)
