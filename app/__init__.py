"""Jifen: a multi-tenant loyalty-points administration system."""
from __future__ import annotations

import logging

from flask import Flask

from app.config import INSTANCE, ROOT, Config, load_config
from app.extensions import babel, cache, csrf, db, htmx, limiter, login_manager, migrate


def create_app(config: Config | None = None) -> Flask:
    config = config or load_config()
    app = Flask(
        __name__, instance_path=str(INSTANCE), template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(config)
    configure_logging(app)
    register_extensions(app)
    register_operations(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from app.database import configure_engine
    from app.db_deadline import register as register_request_deadline
    from app.i18n import select_locale, select_timezone

    if app.config.get("REDIS_URL"):
        app.config.setdefault("CACHE_TYPE", "RedisCache")
        app.config.setdefault("CACHE_REDIS_URL", app.config["REDIS_URL"])
    else:
        app.config.setdefault("CACHE_TYPE", "SimpleCache")
    app.config.setdefault("CACHE_KEY_PREFIX", "jifen:")
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    register_request_deadline(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=str(ROOT / "translations"))
    cache.init_app(app)
    limiter.init_app(app)


def register_operations(app: Flask) -> None:
    from app.ops import register_all

    register_all(app)


def register_blueprints(app: Flask) -> None:
    from app.web import register as register_web

    register_web(app)
    # No try/except ImportError: a broken import must stop the app, not remove the API.
    from app.api import register as register_api

    register_api(app)


def register_errorhandlers(app: Flask) -> None:
    from app.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)


def configure_logging(app: Flask) -> None:
    from app.logging_setup import configure

    configure(app)
    logging.getLogger("jifen").setLevel(logging.INFO)
