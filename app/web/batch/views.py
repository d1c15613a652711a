"""Batch earn: upload a CSV (user_id, points_amount, category, reason), see a
preview with every row's errors, confirm to apply all rows or none."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired

from app.services import batch, ledger
from app.services.errors import DomainError
from app.services.validation import unstorable_at
from app.services.permissions import EARN
from app.web.batch import bp
from app.web.context import actor
from app.web.members.forms import KeyedForm
from app.web.render import once, page
from app.web.tenancy import TenantContext, tenant_view
from wtforms import HiddenField

COLUMNS = ("user_id", "points_amount", "category", "reason")
MAX_ROWS = ledger.BATCH_MAX


class UploadForm(KeyedForm):
    file = FileField(_l("CSV file"), validators=[FileRequired()],
                     description=_l("Columns: user_id, points_amount, category, reason. "
                                    "The first line names them. UTF-8."))


class ConfirmForm(KeyedForm):
    csv_text = HiddenField()


class CsvProblem(ValueError):
    pass


def _amount(raw: str) -> Any:
    """An integer when the cell is one; otherwise the text, for the service to refuse."""
    text = raw.strip()
    try:
        return int(text)
    except ValueError:
        return text


@dataclass
class CsvRows:
    items: list[ledger.EarnItem]
    lines: list[int]  # each item's first physical line in the file, counted from 1


def parse(text: str) -> CsvRows:
    """The file's rows; blank lines are skipped, and each row keeps the line it
    starts on (a quoted cell may span lines), so errors point at the file itself."""
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise CsvProblem(_("The first line must name the columns %(columns)s; missing: "
                           "%(missing)s.", columns=", ".join(COLUMNS), missing=", ".join(missing)))
    rows = CsvRows([], [])
    line = reader.line_num + 1
    for cells in reader:
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        if len(rows.items) >= MAX_ROWS:
            raise CsvProblem(_("At most %(max)s rows per file.", max=MAX_ROWS))
        record = dict(zip(header, cells, strict=False))  # short rows: the service refuses
        rows.items.append(ledger.EarnItem(
            user_id=(record.get("user_id") or "").strip(),
            points_amount=_amount(record.get("points_amount") or ""),
            category=(record.get("category") or "").strip(), reason=record.get("reason") or ""))
        rows.lines.append(start)
    if not rows.items:
        raise CsvProblem(_("The file has no rows."))
    return rows


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvProblem(_("The file is not UTF-8 text. Save it as “CSV UTF-8”.")) from None
    # Strict UTF-8 cannot carry a surrogate, but it can carry a NUL.
    position = unstorable_at(text)
    if position is not None:
        raise CsvProblem(_("Line %(line)s contains a character that cannot be stored "
                           "(U+%(code)04X).", line=text.count("\n", 0, position) + 1,
                           code=ord(text[position])))
    return text


@bp.route("/t/<slug>/batch-earn/", methods=["GET", "POST"])
@tenant_view(EARN)
def upload(tc: TenantContext):
    form = UploadForm()
    status = 200
    result = None
    text = ""
    lines: list[int] = []
    if form.is_submitted():
        status = 422
        if form.validate():
            try:
                text = _decode(form.file.data.read())
                rows = parse(text)
                lines = rows.lines
                result = batch.preview(tc.tenant.id, actor(), rows.items)
            except CsvProblem as exc:
                form.file.errors = [str(exc)]
            else:
                status = 200 if result.ok else 422
    confirm = ConfirmForm(formdata=None, csv_text=text) if result and result.ok else None
    return page("batch/upload.html", "batch/_preview.html", status, form=form, result=result,
                confirm=confirm, lines=lines)


@bp.route("/t/<slug>/batch-earn/confirm", methods=["POST"])
@tenant_view(EARN)
def confirm(tc: TenantContext):
    form = ConfirmForm()
    error = None
    if form.validate_on_submit():
        try:
            rows = parse(form.csv_text.data or "")
            items = rows.items
            body, _replayed = once(tc.tenant.id, form.idempotency_key.data, form, lambda: {
                "transactions": len(ledger.batch_earn(tc.tenant.id, actor(), items)),
                "points": sum(i.points_amount for i in items)})
        except CsvProblem as exc:
            error = str(exc)
        except DomainError as exc:
            # Something changed since the preview (a member removed, a limit lowered):
            # show the fresh preview instead.
            result = batch.preview(tc.tenant.id, actor(), items)
            return page("batch/upload.html", "batch/_preview.html", 422,
                        form=UploadForm(formdata=None), result=result, confirm=None,
                        error=exc.text(), lines=rows.lines)
        else:
            flash(_("%(n)s rows applied: %(points)s points given.", n=body["transactions"],
                    points=body["points"]))
            return redirect(url_for("batch.upload"))
    return render_template("batch/upload.html", form=UploadForm(formdata=None), result=None,
                           confirm=None, error=error or _("Upload the file again.")), 422
