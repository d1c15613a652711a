"""PII key rotation (flask keys rotate) and the staff password policy."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, update

from app.extensions import db
from app.models import Member, StaffUser
from app.services import crypto, members, staff
from app.services.errors import ValidationFailed

OLD_KEY = "zcHrp8KwAtJ3F9Nq3n1wQp1Y3LrKXvmxPZKqJp2yW0U="  # TestingConfig's key


def rows() -> dict[str, object]:
    # Core rows: the session keeps ORM objects unexpired after commit, and the CLI
    # wrote through its own session.
    db.session.expire_all()
    result = {m.user_id: m for m in db.session.execute(select(Member.__table__))}
    db.session.commit()
    return result


def test_rotation_reencrypts_every_member_under_the_newest_key(app, tenant, make_member):
    make_member(tenant, "alice", email="Alice@Example.com", phone="+86 138 0013 8000")
    make_member(tenant, "bob", email="bob@example.com")
    make_member(tenant, "nobody")
    new_key = Fernet.generate_key().decode()
    app.config["FIELD_ENCRYPTION_KEYS"] = [new_key, OLD_KEY]
    before = rows()
    # Mid-rotation, lookups by email still work through the old key's hash.
    assert [p.user_id for p in members.search(tenant.id, q="alice@example.com").items] == ["alice"]

    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 2 of 3 members" in result.output

    app.config["FIELD_ENCRYPTION_KEYS"] = [new_key]  # the old key is gone now
    after = rows()  # also expires what this session loaded before the rotation
    alice = members.get_profile(tenant.id, "alice")
    assert (alice.email, alice.phone) == ("Alice@Example.com", "+86 138 0013 8000")
    assert members.get_profile(tenant.id, "bob").email == "bob@example.com"
    assert after["alice"].email_encrypted != before["alice"].email_encrypted
    assert after["alice"].email_hash == crypto.email_hash("alice@example.com")
    assert after["nobody"].email_encrypted is None and after["nobody"].email_hash is None
    assert [p.user_id for p in members.search(tenant.id, q="alice@example.com").items] == ["alice"]
    # Running again changes nothing.
    again = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert "re-encrypted 0 of 3 members" in again.output


def test_rotation_reports_fields_no_key_can_read(app, tenant, make_member):
    make_member(tenant, "alice", email="alice@example.com")
    stranger = Fernet(Fernet.generate_key()).encrypt(b"x@example.com").decode()
    db.session.execute(update(Member.__table__).values(email_encrypted=stranger))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 1
    assert "1 members have fields no configured key can read" in result.output
    assert rows()["alice"].email_encrypted == stranger  # left for the operator, not destroyed


def test_keys_generate_prints_a_fernet_key(app):
    key = app.test_cli_runner().invoke(args=["keys", "generate"]).output.strip()
    Fernet(key)


@pytest.mark.parametrize("password", ["short1", "password", "PASSWORD", "12345678",
                                      "qwertyuiop", "aaaaaaaaaaaa", "iloveyou"])
def test_the_password_policy_refuses_short_or_common_passwords(app, tenant, password):
    with pytest.raises(ValidationFailed) as caught:
        staff.create_or_add_role(tenant.id, _system(), email="new@acme.test", role="viewer",
                                 password=password)
    assert "password" in caught.value.field_errors


def _system():
    from app.services.context import Actor

    return Actor.system("tests")


def test_the_password_policy_accepts_a_long_uncommon_password_and_hashes_it_with_argon2(
        app, tenant):
    user = staff.create_or_add_role(tenant.id, _system(), email="new@acme.test", role="viewer",
                                    password="tangerine kettle orbit")
    stored = db.session.get(StaffUser, user.id).password_hash
    assert stored.startswith("$argon2id$")
    assert "tangerine" not in stored
    assert crypto.verify_password(stored, "tangerine kettle orbit")
    assert not crypto.verify_password(stored, "tangerine kettle orbiT")


def test_rotation_reencrypts_stored_responses_and_encrypts_those_left_in_clear(
        app, tenant, make_member, actor):
    from app.models import IdempotencyRecord
    from app.services import idempotency, ledger

    make_member(tenant, "alice", email="alice@example.com")

    def earn(key: str) -> idempotency.Stored:
        def operation() -> idempotency.Response:
            out = ledger.earn(tenant.id, actor, user_id="alice", points_amount=5,
                              category="login", idempotency_key=key)
            return idempotency.Response(201, {"transaction": out.transaction.as_dict()})
        return idempotency.run(tenant.id, key, "fp-" + key, operation)

    first = earn("k-sealed").text
    in_clear = earn("k-clear").text
    records = IdempotencyRecord.__table__
    db.session.execute(update(records).where(records.c.key == "k-clear")
                       .values(response_body=in_clear))  # as a worker of the old release wrote it
    db.session.commit()
    new_key = Fernet.generate_key().decode()
    app.config["FIELD_ENCRYPTION_KEYS"] = [new_key, OLD_KEY]

    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "2 stored responses encrypted under the newest key" in result.output

    app.config["FIELD_ENCRYPTION_KEYS"] = [new_key]  # the old key is gone now
    stored = dict(db.session.execute(select(records.c.key, records.c.response_body)).all())
    db.session.commit()
    assert all(not body.startswith("{") for body in stored.values())
    assert (earn("k-sealed").text, earn("k-clear").text) == (first, in_clear)
    assert earn("k-sealed").replayed
