from app.web.members import bp  # noqa: F401
