"""Forms whose untouched fields are drawn once.

A field nobody has typed into and that carries no error draws the same HTML
every time it is shown with the same locale, value, choices and attributes:
the member page draws a dozen of them on every request (the points forms, the
grant form, the history filter), and WTForms' widgets (a select re-inspects
its option renderer's signature on every call) were a fifth of the page's
time. The widget's output is kept under everything it depends on; a field
with input or errors is always drawn afresh.
"""
from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import widgets

# Widgets whose output depends only on the field's value, choices, flags and
# the attributes passed (hidden inputs are left out: they carry one-time keys).
_PURE = (widgets.TextInput, widgets.NumberInput, widgets.TextArea, widgets.Select,
         widgets.CheckboxInput)
_drawn: dict[Any, Any] = {}
MAX_KEPT = 512


def _choices_key(field: Any) -> tuple | None:
    choices = getattr(field, "choices", None)
    if choices is None:
        return ()
    if not isinstance(choices, list | tuple) or \
            not all(isinstance(c, tuple) and len(c) == 2 for c in choices):
        return None  # groups or rendering options: not worth a key
    return tuple((repr(value), str(label)) for value, label in choices)


def _key(field: Any, render_kw: dict[str, Any]) -> Any:
    if field.raw_data or field.errors or type(field.widget) not in _PURE:
        return None
    choices = _choices_key(field)
    if choices is None:
        return None
    try:
        attrs = tuple(sorted(render_kw.items()))
        hash(attrs)
    except TypeError:
        return None
    return (str(get_locale()), type(field), type(field.widget), repr(vars(field.widget)),
            field.name, field.id, repr(field.data), repr(field.flags),
            repr(getattr(field, "render_kw", None)), choices, attrs)


class DrawOnce:
    """A form Meta mixin: WTForms calls `render_field` for every widget drawn."""

    def render_field(self, field: Any, render_kw: dict[str, Any]) -> Any:
        key = _key(field, render_kw)
        if key is None:
            return super().render_field(field, render_kw)  # type: ignore[misc]
        html = _drawn.get(key)
        if html is None:
            html = super().render_field(field, render_kw)  # type: ignore[misc]
            if len(_drawn) >= MAX_KEPT:
                _drawn.clear()
            _drawn[key] = html
        return html


class PortalForm(FlaskForm):
    class Meta(DrawOnce):
        pass
