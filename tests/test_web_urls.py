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


class _Other:
    slug = "globex"


def test_the_templates_url_for_remembers_by_tenant_blueprint_values_and_root(app):
    """The templates' url_for (urls.remembered_url_for) answers what Flask's does,
    whoever asks: each tenant its own slug, each script root its own prefix, each
    blueprint its own `.name`, query values and unhashable values included."""
    remembered = app.jinja_env.globals["url_for"]
    assert remembered is not url_for
    cases = [("members.show", {"user_id": "alice"}), ("members.show", {"user_id": "1/2"}),
             ("members.index", {}), ("members.index", {"q": "ü & <x>"}),
             ("members.index", {"level": ["1", "2"]}), ("dashboard.index", {"days": 7}),
             ("members.show", {"user_id": "bob", "_anchor": "history"}),
             ("members.show", {"user_id": "bob", "slug": "initech"})]
    for root in ("", "/jifen"):
        for tenancy in (_Tenancy(), _Other()):
            with app.test_request_context("/t/x/members/", base_url=f"http://h{root}/"):
                g.tenancy = tenancy
                for endpoint, values in cases:
                    for _ in range(2):  # built, then remembered
                        assert remembered(endpoint, **values) == url_for(endpoint, **values)
    with app.test_request_context("/t/acme/members/"):
        g.tenancy = _Tenancy()
        request_blueprint = app.url_map.bind("h").match("/t/acme/members/")[0].split(".")[0]
        assert request_blueprint == "members"
        assert remembered(".index") == url_for(".index") == "/t/acme/members/"
    with app.test_request_context("/t/acme/levels/"):
        g.tenancy = _Tenancy()
        assert remembered(".index") == url_for(".index") != "/t/acme/members/"
