"""The comparison table in a desktop and a phone window: sorted by a click, drilled down."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboards.tests.conftest import build_world

from .conftest import DESKTOP, PHONE
from .helpers import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROWS = "table.compare tbody tr"


def test_a_district_sorts_its_streets_and_drills_into_one(
    browser, live_server, areas, street_user, district_user, other_district_user, screenshot
):
    build_world(areas, street_user, district_user, other_district_user)
    log_in(browser, live_server, "erin")
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        browser.set_window_size(*size)
        browser.get(f"{live_server.url}/reports/compare/")
        page = browser.find_element(By.TAG_NAME, "main").text
        assert "各地区对比" in page and "每百人走访数" in page
        # A click on 在册统战对象 sorts the streets by members, most first.
        browser.find_elements(By.CSS_SELECTOR, "table.compare thead th button")[1].click()
        members = [
            int(row.find_elements(By.CSS_SELECTOR, "td")[0].text)
            for row in browser.find_elements(By.CSS_SELECTOR, ROWS)
        ]
        assert members == sorted(members, reverse=True) and len(members) == 2
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"
        screenshot(name)
    browser.set_window_size(*DESKTOP)
    browser.find_element(By.LINK_TEXT, "柳巷街道").click()
    WebDriverWait(browser, 10).until(lambda driver: "柳巷街道各社区对比" in driver.page_source)
    names = [
        row.find_element(By.TAG_NAME, "th").text
        for row in browser.find_elements(By.CSS_SELECTOR, ROWS)
    ]
    assert names == ["桥东一社区", "五一二社区"]
    screenshot("drilled")
