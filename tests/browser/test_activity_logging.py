"""A community worker logs an activity with participants from a phone-sized window."""

import struct
import zlib

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from activities.models import Activity
from members.models import Category
from members.tests.factories import MemberFactory

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def png(width: int, height: int, rgb=(178, 34, 34)) -> bytes:
    """A small solid-colour PNG, as a phone would upload a photo."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_log_an_activity_with_participants_on_a_phone(
    browser, live_server, community_user, member, screenshot, tmp_path
):
    log_in(browser, live_server, "alice")
    browser.find_element(By.LINK_TEXT, "活动").click()
    browser.find_element(By.LINK_TEXT, "登记活动").click()
    wait_for_text(browser, "h1", "登记活动")
    Select(browser.find_element(By.NAME, "type")).select_by_visible_text("义诊")
    browser.find_element(By.NAME, "title").send_keys("重阳节义诊")
    # datetime-local takes the digits as typed on a phone keyboard.
    browser.execute_script("document.querySelector('[name=starts_at]').value = '2026-10-29T09:00'")
    browser.find_element(By.NAME, "place").send_keys("社区卫生服务站")

    # The picker: type part of a name, pick the member found, told apart by age, the ID
    # number's last four and community.
    search = browser.find_element(By.CSS_SELECTOR, ".picker-search")
    search.send_keys(member.name[:1])
    found = (
        f"{member.name} · {member.age}岁 · 身份证尾号{member.id_number_masked[-4:]} · 桥东一社区"
    )
    wait_for_text(browser, ".picker-result", f"{member.age}岁")
    assert browser.find_element(By.CSS_SELECTOR, ".picker-result").text == found
    screenshot("picker")
    browser.find_element(By.CSS_SELECTOR, ".picker-result").click()
    wait_for_text(browser, ".participants-picker .chosen", found)
    browser.find_element(By.NAME, "people_served").clear()
    browser.find_element(By.NAME, "people_served").send_keys("86")
    # A photo taken on the spot, attached before saving.
    taken = tmp_path / "候诊.png"
    taken.write_bytes(png(240, 160, rgb=(30, 90, 160)))
    camera = browser.find_element(By.NAME, "files")
    assert camera.get_attribute("capture") == "environment" and camera.get_attribute("multiple")
    camera.send_keys(str(taken))
    screenshot("form")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", camera)
    screenshot("form-photo")
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()

    wait_for_text(browser, "h1", "重阳节义诊")
    assert member.name in browser.find_element(By.CSS_SELECTOR, ".participants").text
    activity = Activity.objects.get()
    assert list(activity.participants.all()) == [member] and activity.people_served == 86
    assert list(activity.files.values_list("name", flat=True)) == ["候诊.png"]

    # A photo from the phone.
    photo = tmp_path / "义诊现场.png"
    photo.write_bytes(png(320, 200))
    browser.find_element(By.ID, "files").send_keys(str(photo))
    browser.find_element(By.CSS_SELECTOR, ".upload button[type=submit]").click()
    wait_for_text(browser, ".messages", "义诊现场.png")
    # Both photos served through the scoped view and decoded by the browser, at their widths.
    decoded = (
        "return Array.from(document.querySelectorAll('.activity-files img'),"
        " i => i.complete ? i.naturalWidth : 0)"
    )
    WebDriverWait(browser, 10).until(lambda driver: all(driver.execute_script(decoded)))
    assert sorted(browser.execute_script(decoded)) == [240, 320]
    screenshot("detail")

    # The member's page lists it.
    browser.find_element(By.LINK_TEXT, member.name).click()
    wait_for_text(browser, ".member-timeline", "重阳节义诊")
    screenshot("member")

    # The list at a desktop width.
    browser.set_window_size(*DESKTOP)
    browser.get(f"{live_server.url}/activities/")
    assert "重阳节义诊" in browser.find_element(By.CSS_SELECTOR, "table.activities").text
    screenshot("list-desktop")
    browser.get(f"{live_server.url}/activities/month/?month=2026-10")
    assert "重阳节义诊" in browser.find_element(By.CSS_SELECTOR, ".calendar").text
    screenshot("month-desktop")
    browser.set_window_size(*PHONE)
    screenshot("month-phone")

    # The form at a desktop width: the picker and the photos field.
    browser.set_window_size(*DESKTOP)
    browser.get(f"{live_server.url}/activities/{activity.pk}/edit/")
    wait_for_text(browser, ".participants-picker .chosen", found)
    browser.find_element(By.CSS_SELECTOR, ".picker-search").send_keys(member.name[:1])
    wait_for_text(browser, ".picker-result", f"{member.age}岁")
    screenshot("form-desktop")
    files = browser.find_element(By.NAME, "files")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", files)
    screenshot("form-photo-desktop")


def test_record_a_visit_that_raises_a_need_and_close_it_on_a_phone(
    browser, live_server, community_user, member, screenshot
):
    from activities.models import Need

    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/members/{member.pk}/")
    browser.find_element(By.LINK_TEXT, "登记走访").click()
    wait_for_text(browser, "h1", "登记走访")
    # Started from the member's page: the member is already chosen.
    assert member.name in browser.find_element(By.CSS_SELECTOR, ".chosen").text
    browser.execute_script("document.querySelector('[name=date]').value = '2026-11-02'")
    # The signed-in worker went, unless said otherwise.
    assert browser.find_element(By.NAME, "staff").get_attribute("value") == "王丽"
    browser.find_element(By.NAME, "situation").send_keys("孩子明年上小学，想了解学区。")
    Select(browser.find_element(By.NAME, "need_kind")).select_by_visible_text("子女入学")
    browser.find_element(By.NAME, "need_description").send_keys("咨询子女入学")
    screenshot("visit-form")
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()

    wait_for_text(browser, "main", "走访已登记")
    browser.find_element(By.LINK_TEXT, "子女入学").click()
    wait_for_text(browser, "#need-status", "待办")
    screenshot("need-open")

    # Later: resolved, with how and when.
    Select(browser.find_element(By.NAME, "status")).select_by_visible_text("已办结")
    browser.find_element(By.NAME, "resolution").send_keys("协调学区，已办理入学。")
    browser.execute_script("document.querySelector('[name=closed_on]').value = '2026-11-20'")
    Select(browser.find_element(By.NAME, "satisfaction")).select_by_visible_text("满意")
    browser.find_element(By.ID, "change-status").click()
    wait_for_text(browser, "#need-status", "已办结")
    need = Need.objects.get()
    assert need.status == "resolved" and need.satisfaction == "satisfied"
    screenshot("need-resolved")


def test_add_participants_by_category_on_a_phone(
    browser, live_server, community_user, member, far_member, areas, screenshot
):
    MemberFactory(name="张五", community=areas["140106001001"])
    religious = MemberFactory(
        name="王道长", community=areas["140106001001"],
        categories=[Category.objects.get(slug="religious")],
    )  # fmt: skip
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/activities/new/")
    wait_for_text(browser, "h1", "登记活动")
    Select(browser.find_element(By.NAME, "type")).select_by_visible_text("义诊")
    browser.find_element(By.NAME, "title").send_keys("知识分子座谈会")
    browser.execute_script("document.querySelector('[name=starts_at]').value = '2026-10-29T09:00'")
    bulk = browser.find_element(By.CSS_SELECTOR, ".picker-bulk")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", bulk)
    bulk.find_element(By.TAG_NAME, "summary").click()
    row = bulk.find_element(By.CSS_SELECTOR, "[data-bulk=category]")
    Select(row).select_by_visible_text(Category.objects.get(slug="intellectual").name)
    row.find_element(By.XPATH, "following-sibling::button").click()
    wait_for_text(browser, ".picker-bulk-message", "新添加人数：2")
    chosen = browser.find_element(By.CSS_SELECTOR, ".participants-picker .chosen").text
    assert "张三" in chosen and "张五" in chosen and "王道长" not in chosen
    assert far_member.name not in chosen
    screenshot("bulk-phone")
    browser.set_window_size(*DESKTOP)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", bulk)
    screenshot("bulk-desktop")
    browser.set_window_size(*PHONE)
    submit = browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", submit)
    submit.click()
    wait_for_text(browser, "h1", "知识分子座谈会")
    activity = Activity.objects.get()
    names = set(activity.participants.values_list("name", flat=True))
    assert names == {"张三", "张五"} and religious.name not in names
