from flask import Blueprint

bp = Blueprint("members", __name__)

from app.web.members.history_cells import history_cells  # noqa: E402

bp.add_app_template_global(history_cells, "history_cells")

from app.web.members import views  # noqa: E402,F401
from app.web.members import lookup_views  # noqa: E402,F401
