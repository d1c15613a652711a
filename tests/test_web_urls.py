"""url_for_each (app/web/urls.py) gives what url_for gives, for every id."""
from __future__ import annotations

import pytest
from flask import Flask, url_for

from app.web import urls
from app.web.urls import url_for_each

IDS = (0, 1, 2, 9, 10, 12, 99, 100, 1234567, 2**62)


class _Tenancy:
    slug = "acme"


@pytest.mark.parametrize("user_id", ["alice", "b501", "12", "ü & <x>/?#%", "1/2"])
def test_it_builds_what_url_for_builds(app, user_id):
    from flask import g

    with app.test_request_context("/t/acme/members/"):
        g.tenancy = _Tenancy()  # the slug filled in, as inside a tenant's page
        reverse = url_for_each("members.reverse", "tx_id", user_id=user_id)
        for tx_id in IDS:
            assert reverse(tx_id) == url_for("members.reverse", user_id=user_id, tx_id=tx_id)
        assert reverse(12).startswith("/t/acme/members/")


def test_it_falls_back_to_url_for_when_the_id_is_not_written_as_is():
    app = Flask(__name__)
    app.add_url_rule("/padded/<int(fixed_digits=4):n>/x", "padded", lambda n: "")
    app.add_url_rule("/two/<int(fixed_digits=2):n>", "two", lambda n: "")
    app.add_url_rule("/plain/<int:n>/y", "plain", lambda n: "")

    from werkzeug.routing import BaseConverter

    class Hex(BaseConverter):
        def to_url(self, value):
            return format(int(value), "x")

    app.url_map.converters["hexa"] = Hex
    app.add_url_rule("/hexa/<hexa:n>", "hexa", lambda n: "")
    with app.test_request_context("/"):
        urls._checked.clear()  # endpoints of another app by the same names
        for endpoint in ("padded", "two", "hexa", "plain"):
            each = url_for_each(endpoint, "n")
            for n in IDS:
                assert each(n) == url_for(endpoint, n=n), endpoint
        assert url_for_each("padded", "n")(12) == "/padded/0012/x"
        assert url_for_each("hexa", "n")(255) == "/hexa/ff"
