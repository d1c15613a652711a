"""URLs of many rows at once.

`url_for` matches the endpoint's rule, fills the tenant's slug in and quotes
every part on each call: a page of 25 history rows made 25 of them that
differ only in the row's id."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import url_for


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
