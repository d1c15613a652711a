"""The listing macro (templates/_listing.html): the empty row spans every column,
however many the person sees."""
from __future__ import annotations

from tests.webtools import text

RULES = "/t/acme/programme/rules/"


def test_the_empty_row_spans_the_columns_the_person_sees(people):
    # A viewer has no actions column: six columns; an owner seven.
    assert '<td colspan="6" class="muted">No earning rules yet.</td>' in text(
        people["viewer"].get(RULES))
    owner_page = text(people["owner"].get(RULES))
    assert '<td colspan="7" class="muted">No earning rules yet.</td>' in owner_page
    assert owner_page.count('<th scope="col">') == 7
