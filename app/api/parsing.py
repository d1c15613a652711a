"""Strict reading of request bodies and query strings.

A body is JSON, UTF-8, an object, at most MAX_DEPTH deep, with known keys only;
anything else is refused before a service sees it. Types and ranges of the
values are the services' business (app/services/validation.py), so the portal
and the API refuse the same things with the same messages.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import request
from flask_babel import gettext as _

from app.services.errors import BAD_REQUEST, DomainError, ValidationFailed

MAX_DEPTH = 32


def _bad_request(problem: str, message: str, **extra: Any) -> DomainError:
    return DomainError(BAD_REQUEST, {"problem": problem, **extra}, message=message)


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON, whatever Python's json module tolerates.
    raise ValueError(f"{name} is not valid JSON")


def depth(value: Any) -> int:
    """Nesting depth of a decoded JSON value, without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in item)
    return deepest


def json_value() -> Any:
    """The body as a JSON value, or BAD_REQUEST (413 comes from Werkzeug first)."""
    if not request.is_json:
        raise _bad_request("content_type", _("Send JSON with Content-Type: application/json."),
                           content_type=request.mimetype or None)
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad_request("invalid_utf8", _("The body is not valid UTF-8."),
                           position=exc.start) from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise _bad_request("too_deep", _("The JSON is nested too deeply."),
                           max_depth=MAX_DEPTH) from None
    except json.JSONDecodeError as exc:
        raise _bad_request("invalid_json", _("The body is not valid JSON."),
                           line=exc.lineno, column=exc.colno) from None
    except ValueError:  # NaN/Infinity, or an integer too long to convert
        raise _bad_request("invalid_json", _("The body is not valid JSON.")) from None
    if depth(value) > MAX_DEPTH:
        raise _bad_request("too_deep", _("The JSON is nested too deeply."), max_depth=MAX_DEPTH)
    return value


def unknown_keys(value: dict[str, Any], allowed: Iterable[str]) -> dict[str, list[str]]:
    allowed_set = set(allowed)
    return {key: [_("Unknown field.")] for key in value if key not in allowed_set}


def json_object(allowed: Iterable[str]) -> dict[str, Any]:
    """The body as a JSON object whose keys are all in `allowed`."""
    value = json_value()
    if not isinstance(value, dict):
        raise _bad_request("not_an_object", _("The body must be a JSON object."),
                           received=type(value).__name__ if value is not None else "null")
    unknown = unknown_keys(value, allowed)
    if unknown:
        raise ValidationFailed(unknown, allowed_fields=sorted(set(allowed)))
    return value


# --------------------------------------------------------------------------- query strings

def check_query(allowed: Iterable[str]) -> None:
    """Unknown query parameters are refused like unknown body keys: a misspelt
    `page_sise` must not silently mean the default."""
    allowed_set = set(allowed)
    unknown = sorted({name for name in request.args if name not in allowed_set})
    if unknown:
        raise ValidationFailed({name: [_("Unknown query parameter.")] for name in unknown[:20]},
                               allowed_parameters=sorted(allowed_set))

def query_text(name: str, max_length: int = 200) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if len(value) > max_length or "\x00" in value:
        raise ValidationFailed({name: [_("At most %(max)s characters.", max=max_length)]})
    return value


def query_int(name: str) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise ValidationFailed({name: [_("This must be a whole number.")]})
    return int(value)


def query_fields(valid: Iterable[str]) -> list[str] | None:
    """`fields=a,b`: the keys to return. Unknown names are refused, not ignored."""
    raw = request.args.get("fields")
    if raw is None or raw == "":
        return None
    valid_list = list(valid)
    names = raw.split(",")
    unknown = [name for name in names if name not in valid_list]
    if unknown:
        raise ValidationFailed(
            {"fields": [_("Unknown field: %(name)s.", name=name) for name in unknown[:20]]},
            valid_fields=valid_list)
    return list(dict.fromkeys(names))
