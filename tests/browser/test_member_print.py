"""A member's ID photo added on her page, and the print buttons, in a desktop and a phone
window: the page fits, the photo shows, the form opens as a PDF."""

import pytest
from selenium.webdriver.common.by import By

from members.tests.factories import MemberFactory
from members.tests.test_printing import photo_bytes

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_alice_adds_a_photo_and_prints_the_form(
    browser, live_server, areas, community_user, screenshot, tmp_path
):
    member = MemberFactory(name="周建华", community=areas["140106001001"], workplace="建华机械")
    picture = tmp_path / "证件照.jpg"
    picture.write_bytes(photo_bytes())
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/members/{member.pk}/")
    assert "暂无证件照" in browser.find_element(By.CSS_SELECTOR, ".member-photo").text
    browser.find_element(By.ID, "photo").send_keys(str(picture))
    browser.find_element(By.CSS_SELECTOR, ".member-photo .upload button").click()
    wait_for_text(browser, ".messages, main", "照片已保存")
    image = browser.find_element(By.CSS_SELECTOR, ".member-photo img")
    assert browser.execute_script("return arguments[0].naturalWidth", image) == 300
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        browser.set_window_size(*size)
        browser.refresh()
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"
        screenshot(name)
    link = browser.find_element(By.LINK_TEXT, "打印登记表")
    assert link.get_attribute("href").endswith(f"/members/{member.pk}/print.pdf")
    browser.get(f"{live_server.url}/members/")
    link = browser.find_element(By.PARTIAL_LINK_TEXT, "打印桥东一社区登记表")
    assert link.get_attribute("href").endswith("/members/print.pdf?community=140106001001")
    screenshot("list-phone")
