"""A street's administrator merges one community into another on a phone: the edit page
offers the change, the confirmation page says what will move, and the tree then shows the
merged community as 已撤销 with the 12-digit codes. The pages fit a phone and a desktop."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import _user
from dashboards.tests.conftest import build_world
from members.models import Member
from tongzhan.models import Area, User

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def fits(browser, name):
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"


def test_an_administrator_merges_a_community_on_a_phone(
    browser, live_server, areas, street_user, district_user, other_district_user, screenshot
):
    build_world(areas, street_user, district_user, other_district_user)
    _user("kate", User.Role.ADMIN, areas["140106001"])
    source = areas["140106001001"]
    members = Member.objects.filter(community=source).count()
    log_in(browser, live_server, "kate")
    browser.get(f"{live_server.url}/manage/areas/{source.pk}/edit/")
    assert "140106001001" in browser.find_element(By.CSS_SELECTOR, "main").text
    fits(browser, "edit")
    screenshot("edit-phone")
    link = browser.find_element(By.LINK_TEXT, "撤并入其他区划")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", link)
    link.click()
    wait_for_text(browser, "h1", "撤并入其他区划")
    assert f"统战对象：{members}" in browser.find_element(By.CSS_SELECTOR, "main").text
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        browser.set_window_size(*size)
        fits(browser, f"merge-{name}")
        screenshot(f"merge-{name}")
    Select(browser.find_element(By.NAME, "target")).select_by_visible_text(
        "140106001002 五一二社区（柳巷街道）"
    )
    button = browser.find_element(By.CSS_SELECTOR, "main form.card button[type=submit]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    wait_for_text(browser, "main", "已撤并入")
    browser.get(f"{live_server.url}/manage/areas/")
    text = browser.find_element(By.CSS_SELECTOR, "main").text
    assert "已撤销" in text and "140106001000" in text
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        browser.set_window_size(*size)
        fits(browser, f"tree-{name}")
        screenshot(f"tree-{name}")
    assert Area.objects.get(pk=source.pk).is_retired
    assert Member.objects.filter(community=source).count() == 0


def test_an_administrator_splits_a_community_on_a_phone(
    browser, live_server, areas, street_user, district_user, other_district_user, screenshot
):
    """The split page offers the community's grids, counts what will move, then splits."""
    build_world(areas, street_user, district_user, other_district_user)
    _user("kate", User.Role.ADMIN, areas["140106001"])
    source = areas["140106001001"]
    staying, leaving = Member.objects.filter(community=source).order_by("pk")[:2]
    Member.objects.filter(pk=leaving.pk).update(address="康宁小区3号楼")
    log_in(browser, live_server, "kate")
    browser.get(f"{live_server.url}/manage/areas/{source.pk}/edit/")
    link = browser.find_element(By.LINK_TEXT, "拆分出新社区")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", link)
    link.click()
    wait_for_text(browser, "h1", "从桥东一社区拆分出新社区")
    code = browser.find_element(By.NAME, "code")
    code.clear()
    code.send_keys("140106001009")
    browser.find_element(By.NAME, "name").send_keys("桥东三社区")
    browser.find_element(By.NAME, "words").send_keys("康宁小区")
    browser.find_element(By.XPATH, "//button[text()='统计将划入的内容']").click()
    wait_for_text(browser, "main", "将划入新社区的内容")
    assert "按地址划入的统战对象：1" in browser.find_element(By.CSS_SELECTOR, "main").text
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        browser.set_window_size(*size)
        fits(browser, f"split-{name}")
        screenshot(f"split-{name}")
    button = browser.find_element(By.NAME, "confirm")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    assert "拆分无法一键撤销" in browser.find_element(By.CSS_SELECTOR, "main").text
    screenshot("split-confirm-phone")
    button.click()
    wait_for_text(browser, "main", "已从桥东一社区拆分出桥东三社区")
    assert Member.objects.get(pk=leaving.pk).community.code == "140106001009"
    assert Member.objects.get(pk=staying.pk).community == source
