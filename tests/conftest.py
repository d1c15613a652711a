"""Test fixtures shared by the whole suite.

Each test gets a fresh application on a freshly migrated database:
- SQLite (`--db=sqlite`, the default): a copy of a template file migrated once
  per session with the real Alembic migrations;
- PostgreSQL (`--db=postgresql`, needs TEST_DATABASE_URL): the schema is
  migrated once per session and every table truncated before each test.
Services commit for real, so threads, separate connections and live servers
all see the same data.
"""
from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.config import TestingConfig, normalise_database_url
from app.extensions import db
from app.models import VipTag
from app.services import staff, tenants, vip
from app.services.context import Actor

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.api_fixtures", "tests.ledger_helpers", "tests.webhook_receiver"]


def pytest_addoption(parser):
    parser.addoption("--db", default="sqlite", choices=("sqlite", "postgresql"),
                     help="database backend of this run")
    parser.addoption("--shuffle", metavar="SEED", default=None,
                     help="run the files in an order shuffled by SEED, and each file's tests "
                          "too ('random': a new seed, printed in the header)")


def pytest_configure(config):
    if config.getoption("--db") == "postgresql" and not os.environ.get("TEST_DATABASE_URL"):
        raise pytest.UsageError("--db=postgresql needs TEST_DATABASE_URL")
    seed = config.getoption("--shuffle")
    if seed == "random":
        config.option.shuffle = str(random.SystemRandom().randrange(10**6))


def pytest_report_header(config):
    seed = config.getoption("--shuffle")
    if seed is not None:
        return f"test order shuffled with --shuffle={seed} (pass it again to repeat the order)"
    return None


def pytest_terminal_summary(terminalreporter, config):
    # Also at the end, where a failure is read (and -q hides the header).
    seed = config.getoption("--shuffle")
    if seed is not None:
        terminalreporter.write_line(f"test order shuffled with --shuffle={seed}")


def _shuffled(items: list, seed: str) -> list:
    """Files in a random order, each file's tests in a random order: an order-dependent
    test shows up, while module-scoped fixtures are still set up once per file."""
    rng = random.Random(seed)
    by_file: dict[str, list] = {}
    for item in items:
        by_file.setdefault(str(item.path), []).append(item)
    files = list(by_file.values())
    rng.shuffle(files)
    for tests in files:
        rng.shuffle(tests)
    return [item for tests in files for item in tests]


def pytest_collection_modifyitems(config, items):
    seed = config.getoption("--shuffle")
    if seed is not None:
        items[:] = _shuffled(items, seed)
    backend = config.getoption("--db")
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: run with TEST_DATABASE_URL set "
                                      "(make test does)")
    for item in items:
        if "postgresql" in item.keywords and backend != "postgresql":
            item.add_marker(skip_pg)


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(TestingConfig(url))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _empty_caches():
    """No test may pass (or fail) because an earlier one warmed a cache."""
    from app import caches

    caches.clear_all()


@pytest.fixture(scope="session")
def db_backend(request) -> str:
    return request.config.getoption("--db")


@pytest.fixture(scope="session")
def _database_template(db_backend, tmp_path_factory):
    if db_backend == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        _migrate(f"sqlite:///{path}")
        return str(path)
    url = normalise_database_url(os.environ["TEST_DATABASE_URL"])
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    _migrate(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        tables = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'"))]
        sequences = [r[0] for r in conn.execute(text(
            "SELECT pg_get_serial_sequence(quote_ident(table_name), column_name) "
            "FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_default LIKE 'nextval%'"))]
    engine.dispose()
    return {"url": url, "tables": tables, "sequences": sequences}


@pytest.fixture
def database_url(db_backend, _database_template, tmp_path) -> str:
    if db_backend == "sqlite":
        path = tmp_path / "jifen.db"
        shutil.copyfile(_database_template, path)
        return f"sqlite:///{path}"
    url = _database_template["url"]
    with _cleaner(url).begin() as conn:
        # DELETE of a few rows is much cheaper than TRUNCATE of twenty tables (which
        # takes catalogue locks and rewrites files). As a replica the session fires
        # no triggers: neither the append-only guards nor the foreign-key checks.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in _database_template["tables"]:
            conn.execute(text(f"DELETE FROM {table}"))
        for sequence in _database_template["sequences"]:
            conn.execute(text("SELECT setval(:seq, 1, false)"), {"seq": sequence})
    return url


_cleaners: dict[str, object] = {}


def _cleaner(url: str):
    if url not in _cleaners:
        _cleaners[url] = create_engine(url, pool_size=1)
    return _cleaners[url]


@pytest.fixture
def app(database_url):
    application = create_app(TestingConfig(database_url))
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def is_postgres(db_backend) -> bool:
    return db_backend == "postgresql"


# --------------------------------------------------------------------------- domain fixtures

SYSTEM = Actor(type="system", label="tests")
PASSWORD = "correct horse battery"


def vip_tag(tenant_id: int, name: str, *, rank: int = 1, tag_type: str = "vip",
            duration_days: int = 30, **more: Any) -> VipTag:
    """A VIP tag, created by the system: what a test does not name is a 30-day vip tag."""
    return vip.create_tag(tenant_id, SYSTEM, tag_name=name, tag_type=tag_type, rank=rank,
                          duration_days=duration_days, **more)


@pytest.fixture
def actor() -> Actor:
    return Actor(type="staff", id=None, label="tester@example.com", ip="127.0.0.1",
                 user_agent="pytest", request_id="req-test")


@pytest.fixture
def tenant(app):
    return tenants.create("acme", "Acme Rewards", SYSTEM)


@pytest.fixture
def other_tenant(app):
    return tenants.create("globex", "Globex Loyalty", SYSTEM)


@pytest.fixture
def failing(app):
    """The app with a view, GET /t/acme/boom, that raises "secret internals",
    answered as in production (the 500 page, not the exception). Ask for it before
    a live server starts."""
    @app.route("/t/acme/boom")
    def boom():
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


@pytest.fixture
def make_member(app, actor):
    from app.services import members

    counter = {"n": 0}

    def make(tenant, user_id: str | None = None, **fields):
        counter["n"] += 1
        return members.create(tenant.id, actor, user_id=user_id or f"m{counter['n']}", **fields)

    return make


@pytest.fixture
def make_staff(app):
    def make(tenant, role: str, email: str | None = None):
        return staff.create_or_add_role(tenant.id, SYSTEM, email=email or f"{role}@{tenant.slug}.test",
                                        role=role, password=PASSWORD)
    return make


# --------------------------------------------------------------------------- portal

@pytest.fixture(scope="session", autouse=True)
def _compiled_translations():
    """`make test` compiles the catalogues; a bare pytest run does it here."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source:
                catalog = read_po(source)
            with mo.open("wb") as target:
                write_mo(target, catalog)


@pytest.fixture
def fast_passwords(monkeypatch):
    """Argon2 at its cheapest: these tests sign in a lot, and test nothing about hashing."""
    from argon2 import PasswordHasher

    from app.services import crypto

    monkeypatch.setattr(crypto, "_hasher", PasswordHasher(time_cost=1, memory_cost=8,
                                                          parallelism=1))


@pytest.fixture
def people(app, tenant, other_tenant, make_staff, fast_passwords):
    """Signed-in clients: the tenant's owner, admin, support and viewer, and an
    outsider (the other tenant's owner)."""
    from tests.webtools import Portal, signed_in

    result = signed_in(app, tenant, make_staff, PASSWORD)
    outsider = make_staff(other_tenant, "owner")
    result["outsider"] = Portal(app.test_client())
    result["outsider"].login(outsider.email, PASSWORD)
    return result
