"""A representative's file (党外代表人士档案) kept from a phone and read on a desktop: a
political arrangement added and another ended, a proposal recorded with only the outcomes a
proposal has, a donation with its amount; no page wider than the window."""

import datetime

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from members import services
from members.tests.factories import MemberFactory

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def fits(browser, name):
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"


def shown(element) -> bool:
    return element.is_displayed()


def set_day(browser, name, day):
    # A date input takes the day as its picker gives it, whatever the keyboard's locale.
    browser.execute_script(
        "document.querySelector(`[name=${arguments[0]}]`).value = arguments[1]", name, day
    )


def test_alice_keeps_a_representatives_file_from_her_phone(
    browser, live_server, areas, community_user, screenshot
):
    member = MemberFactory(name="周建华", community=areas["140106001001"], is_representative=True)
    deputy = services.arrangement_add(
        actor=community_user, member=member,
        data={"body": "npc", "level": "district", "post": "代表", "session": "第十七届",
              "term_from": datetime.date(2021, 12, 1), "term_to": datetime.date(2026, 11, 30)},
    )  # fmt: skip
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/members/{member.pk}/")
    section = browser.find_element(By.ID, "arrangements")
    assert "区人大代表" in section.text and "在任" in section.text

    # A seat in the CPPCC, added on the phone.
    section.find_element(By.LINK_TEXT, "添加政治安排").click()
    organisation = browser.find_element(By.NAME, "organisation")
    assert not shown(organisation)  # the CPPCC names itself
    Select(browser.find_element(By.NAME, "body")).select_by_visible_text("统战社团")
    assert shown(organisation)
    Select(browser.find_element(By.NAME, "body")).select_by_visible_text("政协")
    Select(browser.find_element(By.NAME, "level")).select_by_visible_text("区级")
    browser.find_element(By.NAME, "post").send_keys("委员")
    browser.find_element(By.NAME, "session").send_keys("第十七届")
    fits(browser, "arrangement form")
    screenshot("arrangement-form-phone")
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    wait_for_text(browser, ".messages, main", "已添加政治安排：区政协委员")

    # The deputy's seat is cancelled, with its day and reason.
    browser.get(f"{live_server.url}/members/arrangements/{deputy.pk}/end/")
    browser.find_element(By.CSS_SELECTOR, "input[name=state][value=cancelled]").click()
    set_day(browser, "ended_on", "2026-03-01")
    browser.find_element(By.NAME, "end_reason").send_keys("工作调动")
    fits(browser, "end form")
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    wait_for_text(browser, ".messages, main", "区人大代表：取消")

    # A proposal: the outcome offers a proposal's outcomes only, and no amount is asked.
    browser.get(f"{live_server.url}/members/{member.pk}/duties/new/")
    Select(browser.find_element(By.NAME, "kind")).select_by_visible_text("提案（建议）")
    outcome = Select(browser.find_element(By.NAME, "outcome"))
    offered = [o.text for o in outcome.options if o.is_enabled() and o.get_attribute("value")]
    assert offered == ["待答复", "已立案", "不予立案", "已办结", "采用"]
    assert not shown(browser.find_element(By.NAME, "amount"))
    set_day(browser, "date", "2026-01-10")
    browser.find_element(By.NAME, "title").send_keys("关于老旧小区加装电梯的建议")
    Select(browser.find_element(By.NAME, "arrangement")).select_by_visible_text("区政协委员")
    outcome.select_by_visible_text("已立案")
    fits(browser, "duty form")
    screenshot("duty-form-phone")
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    wait_for_text(browser, ".messages, main", "已添加履职记录")

    # A donation asks for its amount and has no outcome.
    browser.get(f"{live_server.url}/members/{member.pk}/duties/new/")
    Select(browser.find_element(By.NAME, "kind")).select_by_visible_text("捐赠")
    assert shown(browser.find_element(By.NAME, "amount"))
    assert not shown(browser.find_element(By.NAME, "outcome"))
    set_day(browser, "date", "2026-02-01")
    browser.find_element(By.NAME, "title").send_keys("向社区捐赠防汛物资")
    browser.find_element(By.NAME, "amount").send_keys("20000")
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    wait_for_text(browser, ".messages, main", "已添加履职记录")

    for size, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        browser.set_window_size(*size)
        browser.get(f"{live_server.url}/members/{member.pk}/")
        arrangements = browser.find_element(By.ID, "arrangements").text
        assert "区政协委员" in arrangements and "取消" in arrangements
        assert "工作调动" in arrangements
        duties = browser.find_element(By.ID, "duties").text
        assert "关于老旧小区加装电梯的建议" in duties and "已立案" in duties
        assert "20000 元" in duties
        fits(browser, name)
        browser.execute_script("document.getElementById('arrangements').scrollIntoView()")
        screenshot(f"file-{name}")
        browser.execute_script("document.getElementById('duties').scrollIntoView()")
        screenshot(f"duties-{name}")
