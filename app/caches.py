"""Every in-process cache of the app, emptied in one call.

A module-level cache outlives the application that filled it: a test that
warms one can make a later test pass (or fail) by accident. `clear_all()`
empties them all; the test suite calls it before every test. Functions cached
with `functools.lru_cache`/`cache` anywhere in `app` are found by themselves;
a plain dict (or anything with `clear()`) used as a cache registers itself
with `register`. tests/test_caches.py fails on a module-level mutable that is
neither, so a new cache cannot be forgotten."""
from __future__ import annotations

import functools
import sys
from typing import Any, Protocol, TypeVar


class Clearable(Protocol):
    def clear(self) -> None: ...


C = TypeVar("C", bound=Clearable)
_registered: dict[int, Clearable] = {}


def register(cache: C) -> C:
    """Mark `cache` (a dict, a set, an object with `clear()`) as a cache; returns it."""
    _registered[id(cache)] = cache
    return cache


def is_registered(value: Any) -> bool:
    return _registered.get(id(value)) is value


_LRU_WRAPPER = type(functools.lru_cache(maxsize=1)(lambda: None))


def is_lru_cached(value: Any) -> bool:
    # By type, not by attribute: a module's proxies (current_app, request) raise
    # outside a request on any attribute lookup.
    return isinstance(value, _LRU_WRAPPER)


def _app_modules() -> list[Any]:
    return [module for name, module in list(sys.modules.items())
            if module is not None and (name == "app" or name.startswith("app."))]


def clear_all() -> None:
    for cache in list(_registered.values()):
        cache.clear()
    for module in _app_modules():
        for value in list(vars(module).values()):
            if is_lru_cached(value) and value.__module__ == module.__name__:
                value.cache_clear()
