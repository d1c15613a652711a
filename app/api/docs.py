"""`/docs/errors/<CODE>`: a page per error code of the API, generated from the
registry the envelope uses, so the two cannot disagree."""
from __future__ import annotations

from flask import Blueprint, abort, render_template

from app.services.errors import lookup, registry

bp = Blueprint("docs", __name__, url_prefix="/docs")


@bp.get("/errors/")
def error_index() -> str:
    codes = sorted(registry().values(), key=lambda entry: (entry.status, entry.code))
    return render_template("docs/errors.html", codes=codes)


@bp.get("/errors/<code>")
def error_code(code: str) -> str:
    entry = lookup(code)
    if entry is None:
        abort(404)
    return render_template("docs/error_code.html", entry=entry)
