"""Searching members on a phone: the search box is at the top of the list, the other filters
are folded away, and the first result is on the first screen without scrolling."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from members.tests.factories import MemberFactory

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def first_row_box(browser):
    """Where the first member's row lies, and the window's height, in CSS pixels."""
    return browser.execute_script(
        "const box = document.querySelector('table.members tbody tr').getBoundingClientRect();"
        "return {top: box.top, bottom: box.bottom, height: window.innerHeight,"
        " scrolled: window.scrollY};"
    )


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_search_box_is_on_top_and_the_first_result_on_the_first_screen(
    browser, live_server, community_user, areas, screenshot, size
):
    community = areas["140106001001"]
    for number in range(30):
        MemberFactory(name=f"测试{number:02d}号", community=community)
    MemberFactory(name="周明远", community=community)
    browser.set_window_size(*size)
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/members/")

    search = browser.find_element(By.CSS_SELECTOR, "input[name=q]")
    assert search.is_displayed()  # not inside the folded filters
    filters = browser.find_element(By.CSS_SELECTOR, "details.filters")
    assert filters.get_attribute("open") is None
    assert not browser.find_element(By.NAME, "category").is_displayed()
    box = first_row_box(browser)
    assert box["scrolled"] == 0
    assert box["bottom"] <= box["height"], box  # the whole first result shows
    screenshot("list")

    search.send_keys("周明远", Keys.ENTER)
    wait_for_text(browser, "table.members tbody", "周明远")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.members tbody tr")
    assert len(rows) == 1
    assert browser.find_element(By.CSS_SELECTOR, "input[name=q]").get_attribute("value") == (
        "周明远"
    )
    # Searching does not unfold the filters: the result stays on the first screen.
    assert browser.find_element(By.CSS_SELECTOR, "details.filters").get_attribute("open") is None
    box = first_row_box(browser)
    assert box["bottom"] <= box["height"], box
    screenshot("found")

    # A filter keeps the search: both apply, and the filters show open with their value.
    browser.find_element(By.CSS_SELECTOR, "details.filters summary").click()
    Select(browser.find_element(By.NAME, "sex")).select_by_visible_text("女")
    browser.find_element(By.CSS_SELECTOR, "details.filters button[type=submit]").click()
    wait_for_text(browser, "main", "没有")
    assert browser.find_element(By.CSS_SELECTOR, "input[name=q]").get_attribute("value") == (
        "周明远"
    )
    assert (
        browser.find_element(By.CSS_SELECTOR, "details.filters").get_attribute("open") is not None
    )
    screenshot("filtered")
