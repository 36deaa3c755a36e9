"""The possible-duplicate warning on the member form, in a desktop and a phone window: it fits,
links the record in the user's area, counts the one outside, and the checkbox saves."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from members.models import Member
from members.tests.factories import MemberFactory, id_number_for

from .conftest import DESKTOP, PHONE
from .helpers import log_in, record_notice, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_warning_fits_links_and_the_checkbox_saves(
    browser, live_server, areas, community_user, screenshot
):
    mine = MemberFactory(
        name="周明远", workplace="太原市第五中学 教师", community=areas["140106001001"]
    )
    MemberFactory(name="钱七", phone="13903512468", community=areas["140105001001"])
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/members/new/")
    browser.find_element(By.NAME, "name").send_keys("周明远")
    browser.find_element(By.NAME, "id_number").send_keys(id_number_for())
    Select(browser.find_element(By.NAME, "ethnicity")).select_by_visible_text("汉族")
    Select(browser.find_element(By.NAME, "political_status")).select_by_visible_text("群众")
    browser.find_element(By.CSS_SELECTOR, 'input[name=categories][value="intellectual"]').click()
    browser.find_element(By.NAME, "workplace").send_keys("太原市第五中学 教师")
    browser.find_element(By.NAME, "phone").send_keys("139 0351 2468")
    record_notice(browser)
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()
    wait_for_text(browser, "#possible-duplicates", "可能重复")
    warning = browser.find_element(By.ID, "possible-duplicates")
    assert "姓名和工作单位相同" in warning.text
    assert "另有 1 条记录可能是同一人，请联系区委统战部核对" in warning.text
    assert "钱七" not in browser.find_element(By.TAG_NAME, "main").text
    link = warning.find_element(By.LINK_TEXT, "周明远")
    assert link.get_attribute("href").endswith(f"/members/{mine.pk}/")
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        browser.set_window_size(*size)
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"
        screenshot(name)
    browser.find_element(By.NAME, "not_duplicate").click()
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()
    wait_for_text(browser, "h1", "周明远")
    assert Member.objects.filter(name="周明远").count() == 2


def test_the_district_list_of_possible_duplicates_fits(
    browser, live_server, areas, district_user, screenshot
):
    first = MemberFactory(
        name="周明远", workplace="太原市第五中学", community=areas["140106001001"]
    )
    MemberFactory(
        name="周明远",
        id_number=id_number_for(first.birth_date),
        workplace="太原市第五中学",
        community=areas["140106002001"],
    )
    MemberFactory(name="钱七", phone="13903512468", community=areas["140106001002"])
    MemberFactory(name="钱小七", phone="13903512468", community=areas["140106001001"])
    log_in(browser, live_server, "erin")
    browser.get(f"{live_server.url}/members/")
    browser.find_element(By.LINK_TEXT, "可能重复").click()
    wait_for_text(browser, "h1", "可能重复")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.duplicates tbody tr")
    assert len(rows) == 2
    assert "手机号码相同" in rows[0].text
    assert "姓名和出生日期相同、姓名和工作单位相同" in rows[1].text
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        browser.set_window_size(*size)
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"
        screenshot(name)


def test_the_merge_page_and_its_undo_fit(browser, live_server, areas, district_user, screenshot):
    keep = MemberFactory(name="周明远", phone="13903512468", community=areas["140106001001"])
    MemberFactory(
        name="周明远",
        id_number=id_number_for(keep.birth_date),
        workplace="太原市第五中学 教师",
        community=areas["140106002001"],
    )
    log_in(browser, live_server, "erin")
    browser.get(f"{live_server.url}/members/duplicates/")
    browser.find_element(By.LINK_TEXT, "合并…").click()
    wait_for_text(browser, "h1", "合并重复记录")
    plan = browser.find_element(By.ID, "merge-plan").text
    assert "太原市第五中学 教师" in plan
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        browser.set_window_size(*size)
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"
        screenshot(name)
    browser.find_element(By.ID, "confirm-merge").click()
    wait_for_text(browser, "main", "撤销合并")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("周明远")
    screenshot("merged")
    assert Member.objects.filter(merged_into=keep).count() == 1
