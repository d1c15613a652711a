"""Cursor pagination stays stable while new rows arrive."""
from __future__ import annotations

import base64
import threading
import time

from app import create_app
from app import config
from app.services import ledger
from tests.api_fixtures import API_ACTOR, assert_error, assert_success


def test_walking_history_while_earning_sees_every_old_row_exactly_once(
        app, database_url, full, tenant, programme):
    for i in range(45):
        ledger.earn(tenant.id, API_ACTOR, user_id="alice", points_amount=i + 1,
                    category="login")
    existing = {t.id for t in ledger.transactions_page(tenant.id, "alice", page_size=100).items}
    assert len(existing) == 45

    stop = threading.Event()
    earned: list[int] = []

    def keep_earning() -> None:
        # Its own application and connections: a separate writer, as in production.
        writer = create_app(config.TestingConfig(database_url))
        with writer.app_context():
            while not stop.is_set() and len(earned) < 500:
                outcome = ledger.earn(tenant.id, API_ACTOR, user_id="alice", points_amount=1,
                                      category="community")
                earned.append(outcome.transaction.id)
            from app.extensions import db
            db.session.remove()
            db.engine.dispose()

    def writer_earns_more(than: int) -> bool:
        """Wait until the writer has earned more than `than` times: new rows land
        between every two pages, however fast the pages are."""
        deadline = time.monotonic() + 30
        while len(earned) <= than and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.001)
        return len(earned) > than

    thread = threading.Thread(target=keep_earning)
    thread.start()
    seen: list[int] = []
    cursor = None
    pages = 0
    interleaved = 0
    try:
        assert writer_earns_more(0), "the writer never started"
        while True:
            before = len(earned)
            query = {"page_size": 4, **({"cursor": cursor} if cursor else {})}
            response = full.get("/api/v1/points/profiles/alice/transactions/",
                                query_string=query)
            data = assert_success(response, paged=True)
            seen += [t["id"] for t in data]
            pages += 1
            info = response.get_json()["page_info"]
            if not info["has_next"]:
                break
            cursor = info["next_cursor"]
            assert isinstance(cursor, str) and cursor.isascii()
            interleaved += writer_earns_more(before)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert interleaved >= pages - 1, "the writer did not earn between the pages"
    old_seen = [i for i in seen if i in existing]
    assert sorted(old_seen) == sorted(existing)  # every old row...
    assert len(old_seen) == len(set(old_seen))  # ...exactly once
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen, reverse=True)  # newest first, throughout
    assert pages >= 12


def test_a_cursor_is_opaque_and_a_forged_one_is_refused(full, tenant, programme):
    for _ in range(3):
        ledger.earn(tenant.id, API_ACTOR, user_id="alice", points_amount=1, category="login")
    response = full.get("/api/v1/points/profiles/alice/transactions/",
                        query_string={"page_size": 1})
    cursor = response.get_json()["page_info"]["next_cursor"]
    assert not cursor.isdigit()
    for forged in ("djE6LTE", "bm9wZQ", "12", "v1:2"):
        bad = full.get("/api/v1/points/profiles/alice/transactions/",
                       query_string={"cursor": forged})
        assert bad.status_code == 422, forged


def test_a_forged_cursor_beyond_64_bits_is_refused_not_a_500(full, programme):
    huge = base64.urlsafe_b64encode(f"v1:{2**64}".encode()).decode().rstrip("=")
    for path in ("/api/v1/points/profiles/", "/api/v1/points/profiles/alice/transactions/"):
        details = assert_error(full.get(path, query_string={"cursor": huge}), 422,
                               "VALIDATION_ERROR")
        assert "cursor" in details["field_errors"]
