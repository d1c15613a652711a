"""The production defaults the benchmarks chose (bench/README.md), and their
switches: the pool without pre-ping but recycled, gunicorn's shape and log."""
from __future__ import annotations

import multiprocessing
import runpy

import pytest

from app.config import ConfigError, ProductionConfig
from tests.conftest import ROOT

KEY = "zcHrp8KwAtJ3F9Nq3n1wQp1Y3LrKXvmxPZKqJp2yW0U="


@pytest.fixture
def production_env(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", KEY)
    monkeypatch.setenv("DATABASE_URL", "postgresql://jifen@db.example/jifen")
    for name in ("DB_POOL_PRE_PING", "DB_POOL_RECYCLE", "WEB_CONCURRENCY", "GUNICORN_THREADS",
                 "GUNICORN_ACCESS_LOG", "DB_REQUEST_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_pool_skips_the_ping_and_recycles_connections(production_env):
    options = ProductionConfig().SQLALCHEMY_ENGINE_OPTIONS
    assert options["pool_pre_ping"] is False
    assert options["pool_recycle"] == 1800
    production_env.setenv("DB_POOL_PRE_PING", "1")
    production_env.setenv("DB_POOL_RECYCLE", "60")
    options = ProductionConfig().SQLALCHEMY_ENGINE_OPTIONS
    assert options["pool_pre_ping"] is True and options["pool_recycle"] == 60


def test_a_request_waits_on_the_database_5_seconds_at_most_by_default(production_env):
    config = ProductionConfig()
    options = config.SQLALCHEMY_ENGINE_OPTIONS
    assert config.DB_REQUEST_TIMEOUT == 5.0
    assert options["pool_timeout"] <= 5.0 and options["connect_args"]["connect_timeout"] == 3
    production_env.setenv("DB_REQUEST_TIMEOUT", "2")
    config = ProductionConfig()
    assert config.DB_REQUEST_TIMEOUT == 2.0
    assert config.SQLALCHEMY_ENGINE_OPTIONS["pool_timeout"] == 2.0
    assert config.SQLALCHEMY_ENGINE_OPTIONS["connect_args"]["connect_timeout"] == 2  # libpq's least
    for nonsense in ("0", "-1", "soon"):
        production_env.setenv("DB_REQUEST_TIMEOUT", nonsense)
        with pytest.raises(ConfigError):
            ProductionConfig()


def test_gunicorn_runs_two_threaded_processes_a_core_without_its_access_line(production_env):
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert conf["workers"] == 2 * multiprocessing.cpu_count()
    assert conf["threads"] == 2  # gunicorn's gthread worker: keep-alive
    assert conf["accesslog"] is None  # the app logs each request itself
    production_env.setenv("WEB_CONCURRENCY", "3")
    production_env.setenv("GUNICORN_THREADS", "1")
    production_env.setenv("GUNICORN_ACCESS_LOG", "-")
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (conf["workers"], conf["threads"], conf["accesslog"]) == (3, 1, "-")
