"""A need's notes and dates through its life, recorded by a community worker on a phone."""

import datetime

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from activities import services
from activities.models import Need

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def set_date(browser, name: str, day: datetime.date) -> None:
    # A date input takes the digits as a phone's picker gives them.
    browser.execute_script(
        "document.querySelector(arguments[0]).value = arguments[1]",
        f"[name={name}]",
        day.isoformat(),
    )


def test_a_need_s_notes_and_dates_through_its_life(
    browser, live_server, community_user, member, screenshot
):
    today = timezone.localdate()
    visited_on = today - datetime.timedelta(days=3)
    # An older need, left unattended past its due date, and a recent one.
    services.need_create(
        actor=community_user, member=member, data={"kind": "medical", "description": "就医"}
    )
    services.need_create(
        actor=community_user,
        member=member,
        data={
            "kind": "hardship",
            "description": "家中漏水",
            "raised_on": today - datetime.timedelta(days=45),
        },
    )

    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/members/{member.pk}/")
    browser.find_element(By.LINK_TEXT, "登记走访").click()
    wait_for_text(browser, "h1", "登记走访")
    # Today and the signed-in worker, already there; the member field says 走访对象.
    assert browser.find_element(By.NAME, "date").get_attribute("value") == today.isoformat()
    assert browser.find_element(By.NAME, "staff").get_attribute("value") == "王丽"
    assert "走访对象" in browser.find_element(By.CSS_SELECTOR, "label[for=id_members]").text
    screenshot("visit-form-top-phone")
    browser.set_window_size(*DESKTOP)
    screenshot("visit-form-top-desktop")
    browser.set_window_size(*PHONE)
    # Recorded three days after the visit.
    set_date(browser, "date", visited_on)
    browser.find_element(By.NAME, "situation").send_keys("孩子明年上小学，想了解学区。")
    Select(browser.find_element(By.NAME, "need_kind")).select_by_visible_text("子女入学")
    browser.find_element(By.NAME, "need_description").send_keys("咨询子女入学")
    screenshot("visit-form-phone")
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()
    wait_for_text(browser, "main", "走访已登记")

    browser.find_element(By.LINK_TEXT, "子女入学").click()
    wait_for_text(browser, "#need-status", "待办")
    # Raised on the visit's day, handled by the visitor, due 30 days later.
    assert browser.find_element(By.ID, "need-raised").text.startswith(visited_on.isoformat())
    details = browser.find_element(By.CSS_SELECTOR, ".details").text
    assert "王丽" in details and (visited_on + datetime.timedelta(30)).isoformat() in details

    # 办理中, with what was done so far.
    Select(browser.find_element(By.NAME, "status")).select_by_visible_text("办理中")
    browser.find_element(By.NAME, "resolution").send_keys("已联系街道教育办，等待答复。")
    browser.find_element(By.ID, "change-status").click()
    wait_for_text(browser, "#need-status", "办理中")
    wait_for_text(browser, ".need-history", "已联系街道教育办，等待答复。")

    # Closed on a day before it was raised: refused, with the reason beside the field.
    Select(browser.find_element(By.NAME, "status")).select_by_visible_text("已办结")
    browser.find_element(By.NAME, "resolution").send_keys("协调学区，已办理入学。")
    set_date(browser, "closed_on", visited_on - datetime.timedelta(days=1))
    browser.find_element(By.ID, "change-status").click()
    wait_for_text(
        browser, ".field.invalid", f"办结日期不能早于提出时间（{visited_on.isoformat()}）"
    )
    screenshot("close-refused-phone")
    assert Need.objects.get(description="咨询子女入学").status == "in_progress"

    # The date corrected (what was typed is still there): closed.
    set_date(browser, "closed_on", today)
    Select(browser.find_element(By.NAME, "satisfaction")).select_by_visible_text("满意")
    browser.find_element(By.ID, "change-status").click()
    wait_for_text(browser, "#need-status", "已办结")
    history = browser.find_element(By.CSS_SELECTOR, ".need-history")
    assert (
        "已联系街道教育办，等待答复。" in history.text and "协调学区，已办理入学。" in history.text
    )
    screenshot("need-closed-phone")
    browser.execute_script("arguments[0].scrollIntoView()", history)
    screenshot("history-phone")
    browser.set_window_size(*DESKTOP)
    browser.execute_script("arguments[0].scrollIntoView()", history)
    screenshot("history-desktop")

    # The open needs: the overdue one first and marked, at both widths.
    browser.get(f"{live_server.url}/activities/needs/")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.needs tbody tr")
    assert len(rows) == 2 and "生活困难" in rows[0].text and "已超期" in rows[0].text
    assert "已超期" not in rows[1].text
    screenshot("needs-desktop")
    browser.set_window_size(*PHONE)
    first = browser.find_element(By.CSS_SELECTOR, "table.needs tbody tr")
    # On the phone it is the first card.
    assert "生活困难" in first.text and "已超期" in first.text
    screenshot("needs-phone")

    # The visit's page lists its need with its due date and handler.
    visit = Need.objects.get(description="咨询子女入学").visit
    browser.get(f"{live_server.url}/activities/visits/{visit.pk}/")
    wait_for_text(browser, "main", "提出的诉求")
    screenshot("visit-phone")
    # A need recorded on its own: raised today unless another day is given.
    browser.get(f"{live_server.url}/activities/needs/new/?member={member.pk}")
    assert browser.find_element(By.NAME, "raised_on").get_attribute("value") == today.isoformat()
    screenshot("need-form-phone")
    browser.set_window_size(*DESKTOP)
    screenshot("need-form-desktop")
