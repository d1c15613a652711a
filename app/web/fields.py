"""Forms whose untouched fields are drawn once.

A field nobody has typed into and that carries no error draws the same HTML
every time it is shown with the same value, options and attributes: the member
page draws fifteen (the points forms' amounts, categories and reasons, the
grant form's tags and check box, the history filter), and WTForms' widgets
write each attribute through `Markup.format` and a select re-inspects its
option renderer's signature on every call. The HTML is kept under what the
widget reads (its settings, name, id, value, attributes, validation flags, and
a select's options as it will write them); a field with input or errors, or a
widget of another kind (hidden inputs carry one-time keys), is always drawn
afresh. WTForms' own messages are read once per language (KeptMessages).
"""
from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache
from threading import Lock
from typing import Any

from babel import support
from flask import current_app, request
from flask_babel import get_locale
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from wtforms import widgets
from wtforms.i18n import messages_path
from wtforms.widgets.core import clean_key

from app import caches
from app.web.forms import Form

MAX_KEPT = 512


class _Kept:
    """Drawn fields by key, the least recently used dropped first once full
    (threads of one worker share it)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple, Markup] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple) -> Markup | None:
        with self._lock:
            html = self._items.get(key)
            if html is not None:
                self._items.move_to_end(key)
            return html

    def put(self, key: tuple, html: Markup) -> None:
        with self._lock:
            self._items[key] = html
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


_drawn = caches.register(_Kept(MAX_KEPT))


def _attrs_and_flags(field: Any, render_kw: dict[str, Any]) -> tuple[tuple, tuple] | None:
    """The attributes as DefaultMeta.render_field merges them (the field's own
    render_kw, then the call's) and the validation flags the widget writes;
    None when one cannot be part of a key (a list, a callable flag …)."""
    widget = field.widget
    attrs = {clean_key(k): v for k, v in (getattr(field, "render_kw", None) or {}).items()}
    attrs.update((clean_key(k), v) for k, v in render_kw.items())
    # The widget reads the flags through dir(); Flags keeps them as instance
    # attributes and has no public ones of its own (tests/test_web_fields.py).
    flags = tuple(sorted((name, value) for name, value in vars(field.flags).items()
                         if name in widget.validation_attrs))
    if any(callable(value) for _name, value in flags):
        return None
    return tuple(sorted(attrs.items())), flags


def _select_key(field: Any, attrs: tuple, flags: tuple) -> tuple | None:
    """What `widgets.Select.__call__` writes an untouched plain select from; None
    when it has option groups. One pass over the choices (iter_groups gives
    has_groups' answer and iter_choices' options together)."""
    groups = list(field.iter_groups())
    if any(optgroup is not None for optgroup, _options in groups):
        return None
    # Values and labels with their types: 1, True and "1", or a str and the
    # Markup of the same text, are equal as keys but are not written alike. A
    # lazy label is kept as the text it reads now, not as the lazy string.
    options = tuple((type(c.value), c.value, type(c.label), str(c.label), c.selected,
                     tuple(sorted(c.render_kw.items())) if c.render_kw else ())
                    for _optgroup, group in groups for c in group)
    return (widgets.Select, field.widget.multiple, field.name, field.id, attrs, flags, options)


# Inputs and text areas whose HTML is a function of the widget's settings
# (NumberInput's step, min and max), the field's name, id and value (a check
# box's checked state), the attributes and the flags.
_INPUTS = (widgets.TextInput, widgets.NumberInput, widgets.CheckboxInput, widgets.TextArea)


def _input_key(field: Any, attrs: tuple, flags: tuple) -> tuple | None:
    widget = field.widget
    if getattr(field, "_datalist", None) is not None:
        return None
    value = field._value()
    checked = bool(getattr(field, "checked", field.data)) \
        if type(widget) is widgets.CheckboxInput else None
    return (type(widget), tuple(sorted(vars(widget).items())), field.name, field.id,
            type(value), value, checked, attrs, flags)


def _drawing_key(field: Any, render_kw: dict[str, Any]) -> tuple | None:
    """What the widget writes the field from, or None when the field is not an
    untouched field of a kept kind (or something it writes cannot be a key)."""
    kind = type(field.widget)
    if field.raw_data or field.errors or (kind is not widgets.Select and kind not in _INPUTS):
        return None
    merged = _attrs_and_flags(field, render_kw)
    if merged is None:
        return None
    key = _select_key(field, *merged) if kind is widgets.Select else _input_key(field, *merged)
    try:
        hash(key)
    except TypeError:  # an attribute's value (a list …) cannot be part of a key
        return None
    return key


class DrawOnce:
    """A form Meta mixin: WTForms calls `render_field` for every widget drawn."""

    def render_field(self, field: Any, render_kw: dict[str, Any]) -> Any:
        key = _drawing_key(field, render_kw)
        if key is None:
            return super().render_field(field, render_kw)  # type: ignore[misc]
        html = _drawn.get(key)
        if html is None:
            html = super().render_field(field, render_kw)  # type: ignore[misc]
            _drawn.put(key, html)
        return html


_fresh_fields = caches.register(_Kept(64))


def untouched(form: Any) -> bool:
    """A form given no input (built with formdata=None, or from a request that
    sent none of its fields) and with no error: what it draws depends on its
    class, its choices, the language and which of the two it was built from."""
    return not form.form_errors and all(
        not field.raw_data and not field.errors for field in form)


@pass_context
def fields_once(context: Context, form: Any, *key: Any, caller: Any) -> Markup:
    """`{% call fields_once(form, what, …) %}…{% endcall %}`: the block's HTML
    drawn once per language and `key` (which must name whatever else the block
    draws from: the form's kind, a select's choices as a dict …) while `form` is
    untouched; a form with input or errors is drawn afresh. The member page
    draws four fresh forms per request whose fields never change."""
    if not untouched(form):
        return caller()
    kept_key = (context.name, type(form), context.get("_locale_id") or str(get_locale()),
                tuple(field.raw_data is None for field in form),
                *(tuple(k.items()) if isinstance(k, dict) else k for k in key))
    html = _fresh_fields.get(kept_key)
    if html is None:
        html = Markup(caller())
        _fresh_fields.put(kept_key, html)
    return html


@lru_cache(maxsize=16)
def _wtforms_catalogue(locale_id: str) -> support.NullTranslations:
    return support.Translations.load(messages_path(), [locale_id], domain="wtforms")


class KeptMessages:
    """A form Meta mixin: WTForms' own messages from its catalogue read once per
    language (Flask-WTF reads and parses the file again for every request that
    builds a form)."""

    def get_translations(self, form: Any) -> Any:
        if not request or not current_app.config.get("WTF_I18N_ENABLED", True):
            return super().get_translations(form)  # type: ignore[misc]
        return _wtforms_catalogue(str(get_locale()))


class PortalForm(Form):
    class Meta(DrawOnce, KeptMessages):
        pass
