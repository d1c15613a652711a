"""Finding a member by phone or email through keyed hashes, and the member's card:
editing details, the points switch, internal notes."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models import AuditLog, Member
from app.services import contact, crypto, ledger, member_card, members, pii_keys, tenants
from app.services.errors import DomainError
from tests.ledger_helpers import refused


@pytest.mark.parametrize("number", ["+86 138 0000 0000", "138-0000-0000", "13800000000",
                                    "0086 138 0000 0000", "(+86) 138.0000.0000"])
def test_spellings_of_a_number_are_one_international_number(number):
    assert contact.normalise_phone(number, "86") == "+8613800000000"


def test_a_national_number_drops_its_trunk_zero_and_takes_the_default_code():
    assert contact.normalise_phone("020 7946 0000", "44") == "+442079460000"
    assert contact.normalise_phone("+1 (202) 555-0100", "86") == "+12025550100"


@pytest.mark.parametrize("email, masked", [("alice@example.com", "a***@example.com"),
                                           ("b@x.cn", "b***@x.cn"), (None, "")])
def test_emails_are_masked_to_their_first_letter_and_domain(email, masked):
    assert contact.mask_email(email) == masked


@pytest.mark.parametrize("phone, masked", [("13800000000", "+86 138****0000"),
                                           ("+86 138 0000 0000", "+86 138****0000"),
                                           ("+1 202 555 0100", "+120****0100"),
                                           (None, "")])
def test_phones_are_masked_in_the_middle(phone, masked):
    assert contact.mask_phone(phone, "86") == masked


@pytest.fixture
def crowd(tenant, other_tenant, make_member):
    make_member(tenant, "alice", display_name="Alice", email="Alice@Example.com",
                phone="+86 138 0000 0000")
    make_member(tenant, "bob", display_name="Bob", phone="139 1111 2222")
    make_member(tenant, "13800", display_name="Numbered")
    make_member(other_tenant, "eve", email="alice@example.com", phone="13800000000")


def found(tenant, q) -> list[str]:
    return [p.user_id for p in members.search(tenant.id, q=q).items]


@pytest.mark.parametrize("q", ["+86 138 0000 0000", "138-0000-0000", "13800000000",
                               "+8613800000000", " 138 0000 0000 "])
def test_search_finds_an_exact_phone_however_written(tenant, crowd, q):
    assert found(tenant, q) == ["alice"]
    assert members.count(tenant.id, q=q) == 1


def test_search_by_phone_never_matches_part_of_a_number(tenant, crowd):
    assert found(tenant, "138 0000") == []
    assert found(tenant, "13800") == ["13800"]  # a user id prefix still matches


def test_search_finds_an_exact_email_of_its_own_tenant_only(tenant, other_tenant, crowd):
    assert found(tenant, "ALICE@example.com") == ["alice"]
    assert found(other_tenant, "13800000000") == ["eve"]


def test_count_says_how_many_match_across_pages(tenant, make_member):
    for i in range(23):
        make_member(tenant, f"x{i}", display_name="Zhang")
    assert members.count(tenant.id, q="zhang") == 23
    assert len(members.search(tenant.id, q="zhang", page_size=5).items) == 5


def test_the_contact_columns_stay_encrypted(tenant, crowd):
    row = db.session.execute(text("SELECT email_encrypted, phone_encrypted, phone_hash FROM "
                                  "members WHERE user_id = 'alice'")).one()
    assert "138" not in row.phone_encrypted and "example" not in row.email_encrypted
    assert len(row.phone_hash) == 64 and "138" not in row.phone_hash


def test_changing_the_default_country_code_rehashes_national_numbers(tenant, crowd, actor):
    tenants.update_settings(tenant.id, actor, name="Acme", max_points_per_operation=10000,
                            default_expiry_days=None, default_country_code="+44")
    assert tenants.get(tenant.id).default_country_code == "44"
    assert found(tenant, "+44 139 1111 2222") == ["bob"]
    assert found(tenant, "13911112222") == ["bob"]
    assert found(tenant, "+86 139 1111 2222") == []
    assert found(tenant, "+86 138 0000 0000") == ["alice"]  # it named its country


@pytest.mark.parametrize("code", ["", "0", "1234", "8a", None, 86])
def test_a_bad_default_country_code_is_refused(tenant, actor, code):
    with refused("VALIDATION_ERROR") as info:
        tenants.update_settings(tenant.id, actor, name="Acme", max_points_per_operation=10000,
                                default_expiry_days=None,
                                default_country_code=code if code is not None else "")
    assert list(info.value.details["field_errors"]) == ["default_country_code"]


def test_lookups_survive_a_key_rotation_and_rotate_recomputes_the_hashes(app, tenant, crowd):
    old = app.config["FIELD_ENCRYPTION_KEYS"]
    app.config["FIELD_ENCRYPTION_KEYS"] = [Fernet.generate_key().decode(), *old]
    try:
        assert found(tenant, "138-0000-0000") == ["alice"]  # mid-rotation: the old hash
        assert found(tenant, "alice@example.com") == ["alice"]
        pii_keys.rotate_all()
        app.config["FIELD_ENCRYPTION_KEYS"] = app.config["FIELD_ENCRYPTION_KEYS"][:1]
        db.session.expire_all()
        assert found(tenant, "138-0000-0000") == ["alice"]  # the old key gone
        assert found(tenant, "alice@example.com") == ["alice"]
        row = db.session.execute(select(Member).where(Member.user_id == "alice")).scalar_one()
        assert row.phone_hash == contact.phone_hash_of("13800000000", "86")
    finally:
        app.config["FIELD_ENCRYPTION_KEYS"] = old


def test_editing_details_rewrites_the_hashes_and_audits_without_the_values(tenant, crowd,
                                                                            actor):
    profile = member_card.update_details(tenant.id, actor, "bob", display_name="Bobby",
                                         email="bob@example.com", phone="")
    assert (profile.display_name, profile.email, profile.phone) == ("Bobby", "bob@example.com",
                                                                    None)
    assert found(tenant, "bob@example.com") == ["bob"]
    assert found(tenant, "13911112222") == []
    row = db.session.execute(select(Member).where(Member.user_id == "bob")).scalar_one()
    assert row.phone_hash is None and row.phone_encrypted is None
    entry = db.session.execute(select(AuditLog).where(AuditLog.action == "member.update")
                               ).scalar_one()
    assert entry.data == {"changed": ["display_name", "email", "phone"], "display_name": "Bobby"}
    assert "bob@example.com" not in str(entry.data)


def test_unchanged_details_are_not_audited(tenant, crowd, actor):
    member_card.update_details(tenant.id, actor, "bob", display_name="Bob", email=None,
                               phone="139 1111 2222")
    assert db.session.execute(select(AuditLog).where(AuditLog.action == "member.update")
                              ).first() is None


@pytest.mark.parametrize("fields, bad", [
    ({"email": "not-an-email"}, "email"), ({"phone": "call me"}, "phone"),
    ({"display_name": "x" * 201}, "display_name"), ({"display_name": "a\x00b"}, "display_name"),
])
def test_bad_details_are_refused_and_change_nothing(tenant, crowd, actor, fields, bad):
    values = {"display_name": "Bob", "email": None, "phone": None} | fields
    with refused("VALIDATION_ERROR") as info:
        member_card.update_details(tenant.id, actor, "bob", **values)
    assert list(info.value.details["field_errors"]) == [bad]
    assert members.get_profile(tenant.id, "bob").phone == "139 1111 2222"


def test_another_tenants_member_cannot_be_edited_or_noted(tenant, other_tenant, crowd, actor):
    for call in (lambda: member_card.update_details(tenant.id, actor, "eve", display_name="x",
                                                    email=None, phone=None),
                 lambda: member_card.add_note(tenant.id, actor, "eve", "hello")):
        with pytest.raises(DomainError) as info:
            call()
        assert info.value.code == "MEMBER_NOT_FOUND"
    assert members.get_profile(other_tenant.id, "eve").email == "alice@example.com"


def test_notes_are_appended_with_author_and_time_newest_first(tenant, crowd, actor):
    member_card.add_note(tenant.id, actor, "alice", "Called about a missing order")
    member_card.add_note(tenant.id, actor, "alice", "<b>Second</b>")
    alice = members.locate(tenant.id, "alice")
    notes = member_card.notes(tenant.id, alice.id)
    assert [n.body for n in notes] == ["<b>Second</b>", "Called about a missing order"]
    assert notes[0].author == actor.label and notes[0].created_at is not None
    assert db.session.execute(select(AuditLog).where(AuditLog.action == "member.note")
                              ).scalars().all()[0].data["length"] == len("Called about a "
                                                                         "missing order")


@pytest.mark.parametrize("body", ["", "   ", "x" * (member_card.NOTE_MAX + 1), None])
def test_a_bad_note_is_refused(tenant, crowd, actor, body):
    with refused("VALIDATION_ERROR"):
        member_card.add_note(tenant.id, actor, "alice", body)


def test_the_database_refuses_to_change_a_note(tenant, crowd, actor):
    member_card.add_note(tenant.id, actor, "alice", "kept")
    db.session.commit()
    for statement in ("UPDATE member_notes SET body = 'changed'", "DELETE FROM member_notes"):
        with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.execute(text("SELECT body FROM member_notes")).scalars().all() == ["kept"]


def test_a_member_with_points_off_is_refused_points(tenant, crowd, actor):
    members.set_points_enabled(tenant.id, actor, "alice", False)
    with refused("POINTS_DISABLED"):
        ledger.earn(tenant.id, actor, user_id="alice", points_amount=5, category="login")


def test_the_api_create_writes_the_phone_hash(tenant, actor):
    members.create(tenant.id, actor, user_id="new", phone="138-1234-5678")
    assert crypto.phone_hash("+8613812345678") == db.session.execute(
        select(Member.phone_hash).where(Member.user_id == "new")).scalar_one()
