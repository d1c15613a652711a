from flask import Blueprint

bp = Blueprint("vip", __name__)

from app.web.vip import views  # noqa: E402,F401
