"""The portal's CSV downloads: every text cell quoted (a text cell, not a number,
to a spreadsheet), no cell a spreadsheet would run, and one audit row per download.

A cell starting with = + - @ tab or CR would be run as a formula by Excel or
LibreOffice: it gets a leading `'`. A phone number is the exception: made only of
digits, spaces, hyphens and brackets after an optional +, it can call no function
and name no cell, sheet or program, so the worst a spreadsheet can make of it is
arithmetic. It is exported exactly as stored (`+86 138 0000 0000`), quoted as text.
"""
from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Response, stream_with_context

from app.services import exports
from app.web.context import actor
from app.web.tenancy import TenantContext

log = logging.getLogger(__name__)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_PHONE = re.compile(r"\+?[0-9 ()\-]+")


def cell(value: Any) -> Any:
    """A value a spreadsheet shows and never runs."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def phone_cell(value: str | None) -> str:
    """A phone number as stored; anything else a phone column holds, guarded."""
    if not value:
        return ""
    return value if _PLAIN_PHONE.fullmatch(value) else cell(value)


def download(tc: TenantContext, what: str, filename: str, *, filters: dict[str, Any],
             header: list[str], pages: Iterable[list[list[Any]]]) -> Response:
    """Stream `pages` of rows as CSV and audit the download. The last part is sent
    only once the audit row has committed, so a complete file is always an
    audited one; a download cut short (the person left) is audited as incomplete."""
    who = actor()

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(header)
        sent, audited = 0, False  # rows the person has been sent
        held, held_rows = "", 0
        try:
            for page in pages:
                for row in page:
                    writer.writerow(row)
                if held:
                    sent += held_rows  # handed over by the yield, whatever happens after
                    yield held
                held, held_rows = buffer.getvalue(), len(page)
                buffer.seek(0)
                buffer.truncate()
            rows = sent + held_rows
            exports.record(tc.tenant.id, who, what, filters=filters, rows=rows,
                           columns=header, complete=True)
            audited = True
            yield held + buffer.getvalue()
        finally:
            if not audited:
                try:
                    exports.record(tc.tenant.id, who, what, filters=filters, rows=sent,
                                   columns=header, complete=False)
                except Exception:  # the database may be what cut the download
                    log.exception("could not audit an incomplete %s export", what)

    return Response(stream_with_context(generate()), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})
