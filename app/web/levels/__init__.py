from flask import Blueprint

bp = Blueprint("levels", __name__)

from app.web.levels import views  # noqa: E402,F401
