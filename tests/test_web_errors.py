from __future__ import annotations


from tests.webtools import is_full_page, text


def test_404_is_the_portals_page(people):
    response = people["owner"].get("/t/acme/members/nobody/")
    assert response.status_code == 404 and is_full_page(response)
    assert "Not found" in text(response) and "Jifen" in text(response)


def test_403_is_the_portals_page(people):
    response = people["viewer"].get("/t/acme/settings")
    assert response.status_code == 403 and "Not allowed" in text(response)


def test_a_failing_htmx_request_gets_a_message_not_a_page(people):
    response = people["viewer"].get("/t/acme/settings", htmx=True)
    assert response.status_code == 403 and not is_full_page(response)
    assert "data-error-message" in text(response)


def test_500_never_shows_a_stack_trace(failing, tenant, fast_passwords):
    response = failing.test_client().get("/t/acme/boom")
    assert response.status_code == 500
    assert "secret internals" not in text(response) and "Traceback" not in text(response)
    assert "Something went wrong" in text(response)


def test_pages_carry_no_inline_script_or_style(people, tenant, make_member):
    make_member(tenant, "a")
    for url in ("/t/acme/", "/t/acme/members/", "/t/acme/members/a/", "/t/acme/vip-tags/",
                "/t/acme/audit/", "/t/acme/batch-earn/", "/t/acme/staff/", "/login"):
        body = text(people["owner"].get(url))
        assert "<script>" not in body and " style=" not in body and "hx-on" not in body, url
        assert 'src="/static/vendor/htmx-2.0.11.min.js"' in body or url == "/login"
