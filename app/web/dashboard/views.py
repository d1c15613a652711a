from app.web.dashboard import bp  # noqa: F401
