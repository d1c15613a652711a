from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from app.web.dashboard import views  # noqa: E402,F401
