"""Another office's roster template in the browser: a column nobody knows is named before the
file is checked, then the preview and the import go on as for any roster (issue 14)."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from members.models import ImportJob, Member
from members.tests.factories import id_number_for
from members.tests.test_imports import roster

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# 柳巷街道's own template: 街道 and 社区名称, 工作单位 beside 职务, and two columns of its own.
TITLES = ("序号", "街道", "社区名称", "姓名", "民族", "身份证号码", "政治面貌", "工作单位", "职务",
          "人员类别", "手机2", "入党时间")  # fmt: skip


def office_row(name, community):
    return (1, "柳巷街道", community, name, "汉族", id_number_for(), "群众", "桥东小学", "教师",
            "党外知识分子", "13812345678", "2001-07")  # fmt: skip


def overflow(browser) -> int:
    return browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")


def test_upload_another_offices_template_name_the_unknown_columns_preview_and_import(
    browser, live_server, district_user, screenshot, tmp_path
):
    path = tmp_path / "柳巷街道统战对象名册.xlsx"
    path.write_bytes(
        roster(
            office_row("陈一", "桥东一社区居委会"),
            office_row("陈二", "五一二居委会"),
            titles=TITLES,
        )
    )
    browser.set_window_size(*DESKTOP)
    log_in(browser, live_server, "erin")
    browser.get(f"{live_server.url}/members/imports/new/")
    browser.find_element(By.NAME, "file").send_keys(str(path))
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()

    # Before anything is checked, the page asks what the two columns hold.
    wait_for_text(browser, "#column-mapping h2", "说明各列的用途")
    assert browser.find_element(By.ID, "job-state").text == "待说明列的用途"
    labels = [
        label.text for label in browser.find_elements(By.CSS_SELECTOR, "#column-mapping label")
    ]
    assert labels == ["手机2*", "入党时间*"]
    assert not browser.find_elements(By.ID, "confirm-import")
    assert not browser.find_elements(By.ID, "count-created")
    screenshot("mapping")
    browser.set_window_size(*PHONE)
    assert overflow(browser) <= 0
    screenshot("mapping-phone")

    # Left unanswered, the question is asked again.
    browser.find_element(By.ID, "name-columns").click()
    wait_for_text(browser, "#column-mapping", "这个字段是必填项")
    selects = browser.find_elements(By.CSS_SELECTOR, "#column-mapping select")
    first, second = (Select(select) for select in selects)
    first.select_by_visible_text("联系电话")
    second.select_by_visible_text("不导入")
    screenshot("mapping-answered-phone")
    browser.find_element(By.ID, "name-columns").click()

    # Then the file is checked: the preview, as for any roster.
    wait_for_text(browser, "main", "预览：导入将做什么")
    assert browser.find_element(By.ID, "count-created").text == "2"
    assert browser.find_element(By.ID, "count-refused").text == "0"
    people = browser.find_element(By.CSS_SELECTOR, ".import-rows tbody").text
    assert "桥东一社区" in people and "五一二社区" in people
    screenshot("preview-phone")
    browser.set_window_size(*DESKTOP)
    browser.find_element(By.ID, "confirm-import").click()
    wait_for_text(browser, "#job-state", "已导入")
    screenshot("imported")
    assert ImportJob.objects.get().columns == {"手机2": "phone", "入党时间": ""}
    chen = Member.objects.get(name="陈一")
    assert (chen.community.code, chen.workplace, chen.phone) == (
        "140106001001",
        "桥东小学教师",
        "13812345678",
    )
    assert Member.objects.get(name="陈二").community.code == "140106001002"
