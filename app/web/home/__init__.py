from flask import Blueprint

bp = Blueprint("home", __name__)

from app.web.home import views  # noqa: E402,F401
