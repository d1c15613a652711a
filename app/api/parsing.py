"""Strict reading of request bodies and query strings.

A body is JSON, UTF-8, an object, at most MAX_DEPTH deep, with known keys only,
and every string in it (keys too) one the database can store; anything else is
refused before a service sees it. A query string has known parameters, each at
most once, numbers in ASCII digits. Types and ranges of the values are the
services' business (app/services/validation.py), so the portal and the API
refuse the same things with the same messages.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import request
from flask_babel import gettext as _

from app.services import members
from app.services.errors import BAD_REQUEST, DomainError, ValidationFailed
from app.services.validation import unstorable

MAX_DEPTH = 32


def _bad_request(problem: str, message: str, **extra: Any) -> DomainError:
    return DomainError(BAD_REQUEST, {"problem": problem, **extra}, message=message)


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON, whatever Python's json module tolerates.
    raise ValueError(f"{name} is not valid JSON")


def depth(value: Any) -> int:
    """Nesting depth of a decoded JSON value, without recursion."""
    return _scan(value)[0]


Path = tuple[str | int, ...]


def _scan(value: Any) -> tuple[int, tuple[Path, str] | None]:
    """The nesting depth of a decoded JSON value and its first string (value or
    key) that cannot be stored, with where it is; one walk, without recursion."""
    deepest = 0
    problem: tuple[Path, str] | None = None
    stack: list[tuple[Any, int, Path]] = [(value, 1, ())]
    while stack:
        item, level, path = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, level)
            for key, child in item.items():
                message = problem is None and unstorable(key)
                if message:
                    problem = ((*path, key), message)
                stack.append((child, level + 1, (*path, key)))
        elif isinstance(item, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1, (*path, index)) for index, child in enumerate(item))
        elif isinstance(item, str) and problem is None:
            message = unstorable(item)
            if message:
                problem = (path, message)
    return deepest, problem


def _name(part: str | int) -> str:
    # The field is named in the answer, which must itself be encodable.
    return f"[{part}]" if isinstance(part, int) else \
        part.encode("utf-8", "backslashreplace").decode("utf-8")


def unstorable_text(path: Path, message: str) -> ValidationFailed:
    """VALIDATION_ERROR naming the field: a batch item's field by its index
    (as the batch's other errors are), anything else by its dotted path."""
    if len(path) >= 3 and isinstance(path[1], int) and isinstance(path[2], str):
        rest = "".join(("" if isinstance(p, int) else ".") + _name(p) for p in path[3:])
        return ValidationFailed({}, validation_errors=[
            {"index": path[1], "field_errors": {_name(path[2]) + rest: [message]}}])
    name = "".join(("" if isinstance(p, int) or i == 0 else ".") + _name(p)
                   for i, p in enumerate(path)) or "body"
    return ValidationFailed({name: [message]})


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
    deepest, problem = _scan(value)
    if deepest > MAX_DEPTH:
        raise _bad_request("too_deep", _("The JSON is nested too deeply."), max_depth=MAX_DEPTH)
    if problem is not None:
        raise unstorable_text(*problem)
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
# Every query parameter of the API is read here, once: a repeat is refused (a
# `page_size=5&page_size=500` must not be checked on its first value and used
# on another), and so is anything a database could not store.

def check_query(allowed: Iterable[str]) -> None:
    """Unknown query parameters are refused like unknown body keys: a misspelt
    `page_sise` must not silently mean the default."""
    allowed_set = set(allowed)
    unknown = sorted({name for name in request.args if name not in allowed_set})
    if unknown:
        raise ValidationFailed({_name(name): [_("Unknown query parameter.")]
                                for name in unknown[:20]},
                               allowed_parameters=sorted(allowed_set))
    errors: dict[str, list[str]] = {}
    for name, values in request.args.lists():
        if len(values) > 1:
            errors[name] = [_("Give this parameter once, not %(n)s times.", n=len(values))]
            continue
        message = unstorable(values[0])
        if message:
            errors[name] = [message]
    if errors:
        raise ValidationFailed(errors)


def query_value(name: str) -> str | None:
    """The parameter's one value; None when it is absent or empty."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise ValidationFailed({name: [_("Give this parameter once, not %(n)s times.",
                                         n=len(values))]})
    if not values or values[0] == "":
        return None
    message = unstorable(values[0])
    if message:
        raise ValidationFailed({name: [message]})
    return values[0]


def query_text(name: str, max_length: int = 200) -> str | None:
    value = query_value(name)
    if value is not None and len(value) > max_length:
        raise ValidationFailed({name: [_("At most %(max)s characters.", max=max_length)]})
    return value


def _ascii_digits(value: str) -> bool:
    # str.isdigit() is true of "٣" and "²" too, and int() reads the first.
    return value.isascii() and value.isdigit() and len(value) <= 18


def query_int(name: str) -> int | None:
    value = query_value(name)
    if value is None:
        return None
    if not _ascii_digits(value):
        raise ValidationFailed({name: [_("This must be a whole number.")]})
    return int(value)


def query_page_size() -> int:
    """`page_size`: 1 to MAX_PAGE_SIZE in ASCII digits, default 20."""
    value = query_value("page_size")
    if value is None:
        return members.check_page_size(None)
    # Anything but ASCII digits is refused as 0 is, with the usual answer.
    return members.check_page_size(int(value) if _ascii_digits(value) else 0)


def query_fields(valid: Iterable[str]) -> list[str] | None:
    """`fields=a,b`: the keys to return. Unknown names are refused, not ignored."""
    raw = query_value("fields")
    if raw is None:
        return None
    valid_list = list(valid)
    names = raw.split(",")
    unknown = [name for name in names if name not in valid_list]
    if unknown:
        raise ValidationFailed(
            {"fields": [_("Unknown field: %(name)s.", name=name) for name in unknown[:20]]},
            valid_fields=valid_list)
    return list(dict.fromkeys(names))
