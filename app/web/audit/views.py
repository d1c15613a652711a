from app.web.audit import bp  # noqa: F401
