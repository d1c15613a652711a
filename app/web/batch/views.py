from app.web.batch import bp  # noqa: F401
