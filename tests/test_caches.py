"""Every module-level cache can be emptied by app.caches.clear_all (the suite
does it before each test), and a new one cannot be left out."""
from __future__ import annotations

import importlib
import pkgutil
import sys

import app as app_package
from app import caches

MUTABLE = (dict, set, list, bytearray)


def _every_app_module() -> list:
    for info in pkgutil.walk_packages(app_package.__path__, "app."):
        importlib.import_module(info.name)
    return [m for name, m in sys.modules.items() if name == "app" or name.startswith("app.")]


def test_every_module_level_mutable_is_a_registered_cache_or_a_constant():
    """A lower-case module-level dict, set or list is state that outlives an
    application (a cache, a memo): it must be registered with app.caches.
    UPPER_CASE ones are tables filled at import."""
    unregistered = [
        f"{module.__name__}.{name}"
        for module in _every_app_module() if module.__name__ != "app.caches"
        for name, value in vars(module).items()
        if isinstance(value, MUTABLE) and not name.startswith("__") and not name.isupper()
        and not caches.is_registered(value)
    ]
    assert unregistered == []


def test_clear_all_empties_registered_caches_and_every_lru_cache(app):
    from app.web import formatting, labels

    with app.test_request_context():
        labels.translated(labels.KINDS, "en")
        formatting._only_named_strings("%(a)s")
    assert labels._translated and formatting._only_named_strings.cache_info().currsize
    caches.clear_all()
    assert not labels._translated and not formatting._only_named_strings.cache_info().currsize


def test_an_explicit_locale_is_translated_in_that_locale_whoever_asks_first(app):
    from app.web import labels

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert labels.translated(labels.KINDS, "en")["earn"] == "Earn"
        assert labels.translated(labels.KINDS)["earn"] == "获得"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert labels.translated(labels.KINDS, "zh_Hans_CN")["earn"] == "获得"
