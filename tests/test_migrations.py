"""Migrations: empty -> head -> base on a scratch database, and the models agree
with the migrated schema (autogenerate finds nothing)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import config as app_config
from app import create_app
from app.extensions import db

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")
TABLES = {"tenants", "staff_users", "staff_memberships", "members", "levels", "point_transactions",
          "point_lots", "lot_allocations", "vip_tags", "member_tags", "audit_logs",
          "idempotency_records", "api_clients", "token_families", "refresh_tokens",
          "system_settings"}


@contextmanager
def scratch_app(url: str) -> Iterator[None]:
    """An app context on the database at `url`, its connections closed afterwards."""
    with create_app(app_config.TestingConfig(url)).app_context():
        try:
            yield
        finally:
            db.session.remove()
            db.engine.dispose()


@contextmanager
def sqlite_at(tmp_path: Path, revision: str) -> Iterator[None]:
    """A scratch SQLite database migrated up to `revision`, holding the tenant acme (id 1)."""
    with scratch_app(f"sqlite:///{tmp_path / 'scratch.db'}"):
        upgrade(directory=MIGRATIONS, revision=revision)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO tenants (id, slug, name, max_points_per_operation,"
                              " created_at) VALUES (1, 'acme', 'Acme', 10000, '2026-12-01')"))
        yield


def round_trip(url: str) -> None:
    with scratch_app(url):
        upgrade(directory=MIGRATIONS)
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(
                conn, opts={"compare_type": True}), db.metadata)
        assert diff == []
        downgrade(directory=MIGRATIONS, revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=MIGRATIONS)  # and back up again: the downgrade left nothing
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        downgrade(directory=MIGRATIONS, revision="base")


def test_it_migrates_sqlite_up_and_down(app, tmp_path):
    round_trip(f"sqlite:///{tmp_path / 'scratch.db'}")


@pytest.mark.postgresql
def test_it_migrates_postgresql_up_and_down(app):
    url = make_url(app_config.normalise_database_url(os.environ["TEST_DATABASE_URL"]))
    scratch = f"{url.database}_mig"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        round_trip(url.set(database=scratch).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def test_0007_encrypts_the_responses_stored_in_clear_and_0005_gets_them_back(app, tmp_path):
    from app.services import idempotency

    clear = '{"data": {"profile": {"email": "alice@example.com"}}, "success": true}'
    with sqlite_at(tmp_path, "0005"):
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO idempotency_records (tenant_id, key, fingerprint, status_code, "
                "response_body, created_at) VALUES (1, 'k', 'fp', 201, :body, '2026-12-01'), "
                "(1, 'pending', 'fp', NULL, NULL, '2026-12-01')"), {"body": clear})
        upgrade(directory=MIGRATIONS, revision="0007")
        with db.engine.connect() as conn:
            stored = conn.execute(text("SELECT response_body FROM idempotency_records "
                                       "ORDER BY id")).scalars().all()
        assert "alice@example.com" not in stored[0] and stored[1] is None
        assert idempotency.unseal(stored[0]) == clear
        downgrade(directory=MIGRATIONS, revision="0005")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT response_body FROM idempotency_records "
                                     "ORDER BY id")).scalars().all() == [clear, None]


def test_0010_computes_the_lookup_hashes_of_members_already_stored(app, tmp_path):
    from app.services import contact, crypto

    with sqlite_at(tmp_path, "0009"):
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO members (id, tenant_id, user_id, display_name, email_encrypted,"
                " phone_encrypted, total_points, lifetime_points, is_points_enabled,"
                " created_at, updated_at) VALUES (1, 1, 'u1', '', :email, :phone, 0, 0, 1,"
                " '2026-12-01', '2026-12-01'), (2, 1, 'u2', '', NULL, NULL, 0, 0, 1,"
                " '2026-12-01', '2026-12-01')"),
                {"email": crypto.encrypt("Alice@Example.com"),
                 "phone": crypto.encrypt("138-0000-0000")})
        upgrade(directory=MIGRATIONS, revision="0010")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT email_hash, phone_hash FROM members "
                                     "ORDER BY id")).all()
        assert rows[0].phone_hash == contact.phone_hash_of("+86 138 0000 0000", "86")
        assert rows[0].email_hash == crypto.email_hash("alice@example.com")
        assert tuple(rows[1]) == (None, None)
        downgrade(directory=MIGRATIONS, revision="0009")
