from app.web.levels import bp  # noqa: F401
