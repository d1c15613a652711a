"""url_for_each (app/web/urls.py) gives what url_for gives, for every id, at
every place the portal uses it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask, g, url_for

from app.web.urls import url_for_each

ROOT = Path(__file__).resolve().parent.parent
IDS = (0, 1, 2, 7, 9, 10, 12, 99, 100, 1234567, 2**62)
USER_IDS = ("alice", "b501", "12", "ü & <x>/?#%", "1/2")
_USE = re.compile(r"""url_for_each\(\s*['"]([\w.]+)['"]\s*,\s*['"](\w+)['"]""")


class _Tenancy:
    slug = "acme"


def _uses() -> set[tuple[str, str]]:
    """(endpoint, key) of every url_for_each call in the templates and the app."""
    found: set[tuple[str, str]] = set()
    for path in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("app/**/*.py")]:
        if path.name != "urls.py":
            found.update(_USE.findall(path.read_text(encoding="utf-8")))
    return found


def test_the_portal_uses_it():
    assert ("members.reverse", "tx_id") in _uses()


@pytest.mark.parametrize("endpoint, key", sorted(_uses()))
def test_each_use_is_a_rule_that_writes_the_id_as_a_plain_integer(app, endpoint, key):
    """The shortcut writes `int(n)` between the URL's prefix and suffix: a
    converter that pads the id or writes it in another base would need url_for."""
    rules = list(app.url_map.iter_rules(endpoint))
    assert rules
    for rule in rules:
        assert f"<int:{key}>" in rule.rule, rule.rule


@pytest.mark.parametrize("endpoint, key", sorted(_uses()))
@pytest.mark.parametrize("user_id", USER_IDS)
def test_each_use_builds_what_url_for_builds(app, endpoint, key, user_id):
    rule = next(app.url_map.iter_rules(endpoint))
    values = {name: user_id for name in rule.arguments - {key, "slug"}}
    with app.test_request_context("/t/acme/members/"):
        g.tenancy = _Tenancy()  # the slug filled in, as inside a tenant's page
        each = url_for_each(endpoint, key, **values)
        for n in IDS:
            assert each(n) == url_for(endpoint, **values, **{key: n})
        assert each(12).startswith("/t/acme/")


def test_it_falls_back_to_url_for_when_two_ids_differ_in_more_than_their_digit():
    from werkzeug.routing import BaseConverter

    class Tally(BaseConverter):
        def to_url(self, value):
            return "i" * int(value)

    app = Flask(__name__)
    app.url_map.converters["tally"] = Tally
    app.add_url_rule("/tally/<tally:n>/x", "tally", lambda n: "")
    with app.test_request_context("/"):
        each = url_for_each("tally", "n")
        for n in (0, 1, 2, 12):
            assert each(n) == url_for("tally", n=n)
        assert each(3) == "/tally/iii/x"
