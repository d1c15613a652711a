from app.web.admin import bp  # noqa: F401
