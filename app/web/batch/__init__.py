from flask import Blueprint

bp = Blueprint("batch", __name__)

from app.web.batch import views  # noqa: E402,F401
