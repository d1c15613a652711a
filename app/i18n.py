"""Locale choice: the signed-in staff user's saved language, else Accept-Language."""
from __future__ import annotations

from flask import current_app, request
from flask_login import current_user

SUPPORTED = ("en", "zh_Hans_CN")


def select_locale() -> str:
    try:
        if current_user and current_user.is_authenticated and current_user.locale in SUPPORTED:
            return current_user.locale
    except Exception:  # no request or no user loader yet
        pass
    if not request:
        return current_app.config.get("BABEL_DEFAULT_LOCALE", "en")
    best = request.accept_languages.best_match(["en", "zh", "zh-CN", "zh-Hans", "zh-Hans-CN"])
    if best and best.lower().startswith("zh"):
        return "zh_Hans_CN"
    return "en"


def select_timezone() -> str:
    """A tenant's pages show times in the tenant's time zone (its setting)."""
    from app.web.tenancy import current

    context = current() if request else None
    zone = context.tenant.timezone if context is not None else None
    return zone or current_app.config.get("BABEL_DEFAULT_TIMEZONE", "UTC")
