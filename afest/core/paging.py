"""The page of a list asked for in an address (`?page=3`), read by the filter forms of the
list pages."""

from __future__ import annotations

from wtforms import Field
from wtforms.widgets import HiddenInput

LAST_PAGE = 99_999  # beyond it a page number is noise, not a page someone paged to


def page_number(value: str | None) -> int:
    """A page asked for: ASCII digits from 1 to LAST_PAGE; anything else is the first page."""
    text = value or ""
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= LAST_PAGE else 1


class PageField(Field):
    """A list's page in a GET filter form: never invalid, the first page when it makes no
    sense, so a bad page number never drops the filters beside it."""

    widget = HiddenInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, default=1, **kwargs)

    def process_formdata(self, valuelist):
        self.data = page_number(valuelist[0] if valuelist else None)

    def _value(self) -> str:
        return str(self.data or 1)
