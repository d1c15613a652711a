"""CSV exports (app/web/csv_export.py, app/web/members/export_views.py): audited,
contact columns only for can_manage_points, phone numbers as stored, formulas
defused, times in ISO 8601 with the tenant's offset."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.models import AuditLog
from app.services import clock, exports, tenants
from app.services.context import SYSTEM
from app.web.csv_export import cell, phone_cell
from tests.webtools import text


def _rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text(response))))


def _exports() -> list[AuditLog]:
    return db.session.query(AuditLog).filter_by(action="export.members").order_by(AuditLog.id).all()


@pytest.fixture
def shanghai(tenant):
    tenants.update_settings(tenant.id, SYSTEM, name=tenant.name, max_points_per_operation=10000,
                            default_expiry_days=None, timezone="Asia/Shanghai")
    return tenant


def test_contact_columns_only_for_those_who_manage_points(people, tenant, make_member):
    make_member(tenant, "alice", email="alice@example.com", phone="+86 138 0000 0000")
    for role in ("owner", "admin"):
        [row] = _rows(people[role].get("/t/acme/members/export.csv"))
        assert row["email"] == "alice@example.com" and row["phone"] == "+86 138 0000 0000"
    for role in ("support", "viewer"):
        response = people[role].get("/t/acme/members/export.csv")
        [row] = _rows(response)
        assert "email" not in row and "phone" not in row and row["user_id"] == "alice"
        assert "alice@example.com" not in text(response) and "0000 0000" not in text(response)


@pytest.mark.parametrize("phone", ["+86 138 0000 0000", "138-0000-0000", "13800000000",
                                   "+1 (555) 010-9999", "-12 34"])
def test_a_phone_number_is_exported_as_stored_and_quoted_as_text(people, tenant, make_member,
                                                                  phone):
    make_member(tenant, "p", phone=phone)
    response = people["owner"].get("/t/acme/members/export.csv")
    assert f',"{phone}",' in text(response)  # quoted: a text cell, no ' in front
    assert _rows(response)[0]["phone"] == phone


def test_anything_a_spreadsheet_would_run_is_defused(people, tenant, make_member):
    make_member(tenant, "evil", display_name="=HYPERLINK(\"http://x\")")
    make_member(tenant, "plus", display_name="+cmd|' /C calc'!A0")
    rows = {r["user_id"]: r for r in _rows(people["owner"].get("/t/acme/members/export.csv"))}
    assert rows["evil"]["display_name"] == "'=HYPERLINK(\"http://x\")"
    assert rows["plus"]["display_name"] == "'+cmd|' /C calc'!A0"


def test_the_cell_guards():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert cell(f"{start}1+1") == f"'{start}1+1"
    assert cell("plain") == "plain" and cell(7) == 7
    assert phone_cell("+86 138 0000 0000") == "+86 138 0000 0000"
    assert phone_cell("+86=SUM(A1)") == "'+86=SUM(A1)"  # not a phone number: guarded
    assert phone_cell("@12") == "'@12" and phone_cell(None) == ""


def test_times_are_iso_8601_with_the_tenants_offset(people, shanghai, make_member):
    with clock.frozen(datetime(2026, 12, 1, 18, 30, tzinfo=UTC)):
        make_member(shanghai, "late")
    [row] = _rows(people["owner"].get("/t/acme/members/export.csv"))
    assert row["created_at"] == "2026-12-02T02:30:00+08:00"


def test_every_export_is_audited_with_who_what_filters_and_rows(people, tenant, make_member):
    for i in range(3):
        make_member(tenant, f"m{i}", email=f"m{i}@example.com")
    people["viewer"].get("/t/acme/members/export.csv?q=m1@example.com")
    people["owner"].get("/t/acme/members/export.csv")
    viewer, owner = _exports()
    assert viewer.actor_label == "viewer@acme.test" and viewer.target_type == "export"
    assert viewer.data["filters"] == {"q": "m***@example.com"}  # contact data kept masked
    assert viewer.data["rows"] == 1 and viewer.data["complete"] is True
    assert "email" not in viewer.data["columns"]
    assert owner.data["rows"] == 3 and owner.data["filters"] == {}
    assert "email" in owner.data["columns"] and owner.request_id
    listing = text(people["owner"].get("/t/acme/audit/?action=export."))
    assert "export.members" in listing


def test_a_large_export_is_audited_once_with_every_row(people, tenant, make_member):
    for i in range(230):  # three pages of the export
        make_member(tenant, f"u{i:03d}")
    assert len(_rows(people["viewer"].get("/t/acme/members/export.csv"))) == 230
    [entry] = _exports()
    assert entry.data["rows"] == 230 and entry.data["complete"] is True


def test_a_refused_filter_downloads_and_audits_nothing(people):
    assert people["viewer"].get("/t/acme/members/export.csv?q=a%00b").status_code == 400
    assert _exports() == []


def test_masking_of_searched_contact_data():
    assert exports.masked("alice@example.com") == "a***@example.com"
    assert exports.masked("+86 138 0000 1234") == "***1234"
    assert exports.masked("Alice") == "Alice"


def test_a_download_cut_short_is_audited_as_incomplete(app, people, tenant, make_member):
    for i in range(230):
        make_member(tenant, f"u{i:03d}")
    client = people["viewer"].client._client
    with app.app_context():
        response = client.get("/t/acme/members/export.csv", buffered=False)
        chunks = iter(response.response)
        first = next(chunks)
        second = next(chunks)  # the first page is held back until the second is ready
        response.close()  # the person left
    assert first.startswith(b'"user_id"') and second
    [entry] = _exports()
    assert entry.data["complete"] is False and entry.data["rows"] == 200
