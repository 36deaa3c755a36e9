"""A person's request about her record, recorded on a phone from her page and followed on a
desktop: the form, the list with an overdue request in red, the request with its copies, and
the edit page opened to correct her record; no page wider than the window."""

import datetime
import os
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from selenium.webdriver.common.by import By

from activities import services as activity_services
from members import services as member_services
from members.tests.factories import MemberFactory
from privacy import services

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def fits(browser, name):
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"


def test_alice_records_follows_and_answers_a_request(
    browser, live_server, areas, community_user, screenshot
):
    her = MemberFactory(name="林秀英", community=areas["140106001001"], phone="13912345678")
    member_services.relative_add(
        actor=community_user, member=her,
        data={"name": "林志明", "relation": "sibling", "residence": "TWN",
              "contact": "0912345678", "place": "台北市"},
    )  # fmt: skip
    activity_services.visit_create(
        actor=community_user,
        data={"community": her.community, "date": timezone.localdate(), "staff": "王丽",
              "way": "home", "situation": "家中老人卧床，需要照料"},
        members=[her],
    )  # fmt: skip
    late = services.request_record(
        actor=community_user, member=her,
        data={"kind": "see", "received_on": timezone.localdate() - datetime.timedelta(days=40),
              "asks": "查阅本人登记信息"},
    )  # fmt: skip
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/members/{her.pk}/")
    section = browser.find_element(By.ID, "person-requests")
    assert "已逾期" in section.text
    browser.execute_script("arguments[0].scrollIntoView();", section)
    fits(browser, "member page")
    screenshot("member-section-phone")
    section.find_element(By.ID, "record-request").click()
    screenshot("form-top-phone")
    browser.find_element(By.CSS_SELECTOR, "input[name=kind][value=correct]").click()
    browser.find_element(By.CSS_SELECTOR, "input[name=asked_by][value=agent]").click()
    browser.find_element(By.NAME, "agent_name").send_keys("林志明")
    browser.find_element(By.NAME, "agent_relation").send_keys("兄长")
    browser.find_element(By.NAME, "asks").send_keys("工作单位登记有误，应为太原纺织二厂")
    fits(browser, "form")
    screenshot("form-phone")
    browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
    wait_for_text(browser, ".messages, main", "请求已登记")
    fits(browser, "request")
    screenshot("request-phone")
    browser.find_element(By.ID, "correct").click()
    wait_for_text(browser, "#edit-reason", "号请求（更正）")
    fits(browser, "edit")
    screenshot("edit-phone")
    made = her.person_requests.get(kind="correct")
    services.copy_produce(actor=community_user, person_request=made, file_format="xlsx")
    folder = os.environ.get("SCREENSHOT_DIR")
    for file_format in ("xlsx", "pdf"):
        _copy, data = services.copy_produce(
            actor=community_user, person_request=made, file_format=file_format
        )
        if folder:
            (Path(folder) / f"person-request-copy-{file_format}.{file_format}").write_bytes(data)
    for size, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        browser.set_window_size(*size)
        browser.get(f"{live_server.url}/privacy/requests/")
        rows = browser.find_elements(By.CSS_SELECTOR, "#requests tbody tr.overdue")
        assert len(rows) == 1 and "已逾期" in rows[0].text
        fits(browser, f"list {name}")
        screenshot(f"list-{name}")
        browser.get(f"{live_server.url}/privacy/requests/{made.pk}/")
        copies = browser.find_element(By.ID, "copy-list")
        assert "电子表格" in copies.text
        fits(browser, f"request {name}")
        screenshot(f"request-{name}")
        browser.execute_script("arguments[0].scrollIntoView();", copies)
        screenshot(f"copies-{name}")
    browser.get(f"{live_server.url}/privacy/requests/{late.pk}/answer/")
    fits(browser, "answer")
    screenshot("answer-desktop")
    browser.get(live_server.url + reverse("liaison:todo"))
    assert "林秀英" in browser.find_element(By.TAG_NAME, "main").text
    screenshot("todo-desktop")
