"""The base of every portal form.

Text a database cannot store (a NUL, or a lone UTF-16 surrogate) is refused
here, as an inline error on the field that carried it, before any service sees
it; the API refuses the same text when it parses a body (app/api/parsing.py).
tests/test_web_unstorable_text.py checks that every form of the portal is one.
"""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm

from app.services.validation import unstorable


class Form(FlaskForm):
    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            for raw in field.raw_data or ():
                message = unstorable(raw) if isinstance(raw, str) else None
                if message:
                    if getattr(field.widget, "input_type", None) == "hidden":  # no place of its own
                        self.form_errors.append(message)
                    else:
                        field.errors = [*field.errors, message]
                    valid = False
                    break
        return valid
