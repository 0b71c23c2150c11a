"""The page asked for in a list's address: a page number, else the first page."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from afest.core.forms import Form
from afest.core.paging import LAST_PAGE, PageField, page_number


class _List(Form):
    class Meta:
        csrf = False

    page = PageField()


@pytest.mark.parametrize(
    ("value", "page"), [("1", 1), ("2", 2), ("0042", 42), (str(LAST_PAGE), LAST_PAGE)]
)
def test_a_page_number_is_that_page(value, page):
    assert page_number(value) == page


@pytest.mark.parametrize(
    "value", [None, "", "0", "-1", str(LAST_PAGE + 1), "9" * 40, "²", "١", "1.5", " 2", "deux"]
)
def test_anything_else_is_the_first_page(value):
    assert page_number(value) == 1


def test_the_field_is_never_invalid(app):
    with app.test_request_context():
        assert _List(MultiDict()).page.data == 1
        bad = _List(MultiDict({"page": "²"}))
        assert bad.validate() and bad.page.data == 1
        assert _List(MultiDict({"page": "3"})).page.data == 3
