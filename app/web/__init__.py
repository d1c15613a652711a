"""The portal's HTML blueprints."""
from __future__ import annotations

from flask import Flask

from app.extensions import db, login_manager
from app.models import StaffUser


def register(app: Flask) -> None:
    from app import request_context
    from app.web.auth import bp as auth_bp
    from app.web.home import bp as home_bp

    request_context.register(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(user_id: str) -> StaffUser | None:
        if not user_id.isdigit():
            return None
        return db.session.get(StaffUser, int(user_id))

    from flask_babel import get_locale

    app.jinja_env.globals["get_locale"] = get_locale
    app.register_blueprint(auth_bp)
    app.register_blueprint(home_bp)
