"""URLs of many rows at once.

`url_for` matches the endpoint's rule, fills the tenant's slug in and quotes
every part on each call: a page of 25 history rows made 25 of them that
differ only in the row's id."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, request, url_for


def url_for_each(endpoint: str, key: str, **values: Any) -> Callable[[int], str]:
    """`lambda n: url_for(endpoint, **values, key=n)` for a whole number `n`, with
    the URL built once: the URLs of 1 and 2 differ in that digit alone, and what
    surrounds it is the same for every id. Only for a rule that writes `key` as
    a plain `<int:…>` (tests/test_web_urls.py checks every use against url_for);
    when the two URLs differ otherwise, each call is url_for's."""

    def each(n: int) -> str:
        return url_for(endpoint, **values, **{key: n})

    one, two = each(1), each(2)
    at = next((i for i, (a, b) in enumerate(zip(one, two, strict=False)) if a != b), None)
    if len(one) != len(two) or at is None or one[at + 1:] != two[at + 1:]:
        return each
    prefix, suffix = one[:at], one[at + 1:]

    def shortcut(n: int) -> str:
        return f"{prefix}{int(n)}{suffix}"

    return shortcut


BUILT_MAX = 4096  # per application; a portal has a few hundred distinct links


def remembered_url_for(app: Any) -> Callable[..., str]:
    """The templates' `url_for`: Flask's, with each URL built once per process and
    kept by everything it depends on — the endpoint (and, for `.name`, the
    request's blueprint), the values, the tenant whose slug `url_defaults` fills
    in, and the script root. Calls with `_external`, `_anchor` and the like, or
    with values that cannot be a key, are Flask's own every time."""
    built: dict[tuple, str] = app.extensions.setdefault("jifen_built_urls", {})

    def remembered(endpoint: str, **values: Any) -> str:
        if any(name[:1] == "_" for name in values):
            return url_for(endpoint, **values)
        tenancy = g.get("tenancy")
        key = (endpoint, request.blueprint if endpoint[:1] == "." else None,
               tenancy.slug if tenancy is not None else None, request.script_root,
               *sorted(values.items()))
        try:
            return built[key]
        except KeyError:
            pass
        except TypeError:  # a value that cannot be part of a key (a list, a dict)
            return url_for(endpoint, **values)
        url = built[key] = url_for(endpoint, **values)
        if len(built) > BUILT_MAX:
            try:
                built.pop(next(iter(built)))  # the oldest
            except (KeyError, RuntimeError, StopIteration):
                pass  # another thread changed it meanwhile: its next call trims
        return url

    return remembered
