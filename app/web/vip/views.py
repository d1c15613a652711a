from app.web.vip import bp  # noqa: F401
