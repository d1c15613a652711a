"""GET /metrics: request counters by route rule, points operations, live gauges."""
from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.services import clock, ledger


def samples(response) -> dict[tuple[str, frozenset], float]:
    assert response.status_code == 200, response.get_data(as_text=True)
    result = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            result[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return result


def value(found, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_it_counts_requests_by_route_rule_not_raw_path(app, full, programme):
    client = app.test_client()
    before = samples(client.get("/metrics"))
    for user in ("alice", "bob", "nobody"):
        full.get(f"/api/v1/points/profiles/{user}/")
    client.get("/no/such/page/1")
    client.get("/no/such/page/2")
    after = samples(client.get("/metrics"))
    rule = "/api/v1/points/profiles/<user_id>/"

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("api_requests_total", method="GET", endpoint=rule, status="200") == 2
    assert delta("api_requests_total", method="GET", endpoint=rule, status="404") == 1
    assert delta("api_request_duration_seconds_count", method="GET", endpoint=rule) == 3
    assert delta("api_requests_total", method="GET", endpoint="<unmatched>", status="404") == 2
    assert not any("alice" in str(labels) for _, labels in after)


def test_it_counts_points_operations_by_outcome(app, full, programme):
    client = app.test_client()
    before = samples(client.get("/metrics"))
    earn = {"user_id": "alice", "points_amount": 10, "category": "login"}
    assert full.post("/api/v1/points/earn/", json=earn).status_code == 201
    assert full.post("/api/v1/points/earn/", json=earn).status_code == 201
    assert full.post("/api/v1/points/earn/", json={**earn, "points_amount": 0}).status_code == 422
    assert full.post("/api/v1/points/spend/", json={**earn, "points_amount": 5000}).status_code == 422
    after = samples(client.get("/metrics"))

    def delta(operation, status):
        labels = {"operation": operation, "status": status}
        return value(after, "points_operations_total", **labels) - \
            value(before, "points_operations_total", **labels)

    assert (delta("earn", "success"), delta("earn", "rejected")) == (2, 1)
    assert delta("spend", "rejected") == 1


def test_it_reports_outstanding_points_and_active_members(app, tenant, other_tenant,
                                                          make_member, actor):
    app.config["METRICS_DATA_CACHE_SECONDS"] = 0
    make_member(tenant, "alice")
    make_member(tenant, "bob")
    make_member(tenant, "sleepy")
    make_member(other_tenant, "zed")
    ledger.earn(tenant.id, actor, user_id="alice", points_amount=120, category="login")
    ledger.earn(tenant.id, actor, user_id="bob", points_amount=30, category="login")
    ledger.spend(tenant.id, actor, user_id="bob", points_amount=10, category="payment")
    with clock.frozen(clock.now() - timedelta(days=45)):
        ledger.earn(tenant.id, actor, user_id="sleepy", points_amount=5, category="login")
    found = samples(app.test_client().get("/metrics"))
    assert value(found, "points_outstanding", tenant="acme") == 145
    assert value(found, "points_outstanding", tenant="globex") == 0
    assert value(found, "active_members", tenant="acme") == 2  # sleepy was last active 45 days ago
    assert value(found, "active_members", tenant="globex") == 0
    assert value(found, "jifen_dependency_up", dependency="database") == 1
    assert value(found, "jifen_maintenance_active") == 0


def test_it_reports_the_database_down_instead_of_failing(make_app):
    from app import config as app_config
    from tests.ops.conftest import free_port

    down = make_app(app_config.TestingConfig(f"postgresql+psycopg://x@127.0.0.1:{free_port()}/x"))
    found = samples(down.test_client().get("/metrics"))
    assert value(found, "jifen_dependency_up", dependency="database") == 0


@pytest.fixture
def protected(make_app):
    return make_app(METRICS_TOKEN="scrape-secret-123")


def test_it_requires_the_metrics_token_when_set(protected):
    client = protected.test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "AUTHENTICATION_REQUIRED"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
    assert ok.status_code == 200
    assert ok.headers["Content-Type"].startswith("text/plain; version=")
