from flask import Blueprint

bp = Blueprint("programme", __name__)

from app.web.programme import event_views, views  # noqa: E402,F401
