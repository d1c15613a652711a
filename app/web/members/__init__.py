from flask import Blueprint

bp = Blueprint("members", __name__)

from app.web.members import views  # noqa: E402,F401
from app.web.members import lookup_views  # noqa: E402,F401
