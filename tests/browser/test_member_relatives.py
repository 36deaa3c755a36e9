"""A member's relatives (亲属) recorded on a phone and read on a desktop: the hint for a
category 11 member, the form, the list on her page; no page wider than the window."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from members import services
from members.models import Category
from members.tests.factories import MemberFactory

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def fits(browser, name):
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"


def test_alice_records_a_relative_in_taiwan_from_her_phone(
    browser, live_server, areas, community_user, screenshot
):
    member = MemberFactory(
        name="林建国",
        community=areas["140106001001"],
        categories=[Category.objects.get(slug="taiwan")],
        hmt_origin="台北",
        hmt_relation="兄妹",
    )
    services.relative_add(
        actor=community_user,
        member=member,
        data={"name": "林志明", "relation": "parent", "residence": "CAN", "place": "温哥华",
              "contact": "wechat_lzm", "notes": "每年春节回乡"},
    )  # fmt: skip
    services.relative_remove(actor=community_user, relative=member.relatives.get())
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/members/{member.pk}/")
    assert "尚未录入" in browser.find_element(By.CSS_SELECTOR, "#relatives").text
    browser.execute_script("document.getElementById('relatives').scrollIntoView()")
    screenshot("hint-phone")
    browser.find_element(By.LINK_TEXT, "添加亲属").click()
    browser.find_element(By.NAME, "name").send_keys("林美玲")
    Select(browser.find_element(By.NAME, "relation")).select_by_visible_text("兄弟姐妹")
    Select(browser.find_element(By.NAME, "residence")).select_by_visible_text("台湾")
    browser.find_element(By.NAME, "place").send_keys("台北市大安区")
    browser.find_element(By.NAME, "contact").send_keys("+886 912 345 678")
    fits(browser, "form")
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    screenshot("form-phone")
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    wait_for_text(browser, ".messages, main", "已添加亲属林美玲")
    services.relative_add(
        actor=community_user,
        member=member,
        data={"name": "林志明", "relation": "parent", "residence": "CAN", "place": "温哥华",
              "contact": "wechat_lzm", "notes": "每年春节回乡"},
    )  # fmt: skip
    for size, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        browser.set_window_size(*size)
        browser.get(f"{live_server.url}/members/{member.pk}/")
        section = browser.find_element(By.CSS_SELECTOR, "#relatives").text
        assert "林美玲" in section and "台湾 · 台北市大安区" in section and "林志明" in section
        assert "*****5678" in section and "+886" not in section and "尚未录入" not in section
        fits(browser, name)
        browser.execute_script("document.getElementById('relatives').scrollIntoView()")
        screenshot(name)


def test_a_relative_who_is_registered_sees_whose_relative_she_is(
    browser, live_server, areas, community_user, screenshot
):
    """The link goes both ways on the pages: the relative's own record names the member who
    recorded her, on a phone without overflowing."""
    brother = MemberFactory(name="林建国", community=areas["140106001001"])
    sister = MemberFactory(name="林美玲", community=areas["140106001001"])
    services.relative_add(
        actor=community_user,
        member=brother,
        data={"name": "林美玲", "relation": "sibling", "residence": "CHN",
              "linked_member": sister},
    )  # fmt: skip
    log_in(browser, live_server, "alice")
    browser.set_window_size(*PHONE)
    browser.get(f"{live_server.url}/members/{sister.pk}/")
    wait_for_text(browser, "#relatives", "林建国登记的亲属（兄弟姐妹）")
    section = browser.find_element(By.ID, "relatives")
    browser.execute_script("arguments[0].scrollIntoView();", section)
    fits(browser, "relative-of")
    screenshot("relative-of-phone")
    section.find_element(By.LINK_TEXT, "林建国").click()
    wait_for_text(browser, "h1", "林建国")
