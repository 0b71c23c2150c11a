"""On a phone (375 px wide) the top bar wraps its links: no page scrolls sideways."""

from __future__ import annotations

import pytest

from tests.browser.conftest import login, logout

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 700}


@pytest.mark.parametrize(
    ("email", "path"),
    [("admin@afest.demo", "/admin/structures"), ("direction@azur-aide.demo", "/")],
)
def test_no_page_is_wider_than_a_phone(page, email, path):
    page.set_viewport_size(PHONE)
    login(page, email)
    page.goto(path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width} px wide for {email}"
    logout(page)
