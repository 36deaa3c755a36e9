"""An administrator limited to a street, on a phone, keeps its areas, the activity types and
an evaluation template on the application's own pages, which fit the screen."""

from decimal import Decimal as D

import pytest
from selenium.webdriver.common.by import By

from activities.models import ActivityType
from assessment import services
from assessment.models import EvaluationItem, EvaluationTemplate
from conftest import _user
from tongzhan.models import Area, User

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def fits(browser, name):
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"


def test_an_administrator_on_a_phone_keeps_areas_types_and_a_template(
    browser, live_server, areas, screenshot
):
    _user("kate", User.Role.ADMIN, areas["140106001"])
    log_in(browser, live_server, "kate")
    browser.set_window_size(*PHONE)

    # A community under the street: 添加下级 on the street's row starts it.
    browser.get(f"{live_server.url}/manage/areas/")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.area-tree tbody tr")
    assert [row.find_element(By.CSS_SELECTOR, ".tree-name").text for row in rows][:2] == [
        "柳巷街道", "桥东一社区",
    ]  # fmt: skip
    assert "文庙街道" not in browser.page_source
    fits(browser, "area tree")
    screenshot("areas-phone")
    rows[0].find_element(By.LINK_TEXT, "添加下级").click()
    browser.find_element(By.ID, "id_name").send_keys("新建社区")
    browser.find_element(By.ID, "id_code").send_keys("009")  # after the street's code
    fits(browser, "new area")
    screenshot("area-form-phone")
    browser.find_element(By.CSS_SELECTOR, "form.narrow button[type=submit]").click()
    wait_for_text(browser, ".messages", "区域已添加。")
    area = Area.objects.get(code="140106001009")
    assert (area.name, area.level, area.parent.code) == ("新建社区", "community", "140106001")
    assert "新建社区" in browser.find_element(By.CSS_SELECTOR, "table.area-tree").text

    # An activity type.
    browser.get(f"{live_server.url}/activities/types/")
    browser.find_element(By.LINK_TEXT, "新增活动类型").click()
    browser.find_element(By.ID, "id_name").send_keys("健步走")
    browser.find_element(By.ID, "id_code").send_keys("walk")
    browser.find_element(By.CSS_SELECTOR, "form.narrow button[type=submit]").click()
    wait_for_text(browser, ".messages", "活动类型已添加。")
    assert ActivityType.objects.get(code="walk").name == "健步走"
    assert "健步走" in browser.find_element(By.CSS_SELECTOR, "table.activity-types").text
    fits(browser, "activity types")
    screenshot("types-phone")

    # The example template (no round uses it): change an item's score, add an item by button.
    template = EvaluationTemplate.objects.get(is_example=True)
    browser.get(f"{live_server.url}/assessment/templates/")
    browser.find_element(By.PARTIAL_LINK_TEXT, "示例模板").click()
    score = browser.find_element(By.NAME, "c-0-i-1-max_score")
    score.clear()
    score.send_keys("4")
    first = browser.find_element(By.CSS_SELECTOR, ".categories .template-category")
    add = first.find_element(By.CSS_SELECTOR, ".add-item")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", add)
    add.click()
    rows = first.find_elements(By.CSS_SELECTOR, ".item-row")
    rows[-1].find_element(By.CSS_SELECTOR, "input[name$='-name']").send_keys("遵守政治纪律")
    rows[-1].find_element(By.CSS_SELECTOR, "input[name$='-max_score']").send_keys("1")
    fits(browser, "template editor")
    screenshot("template-phone")
    save = browser.find_element(By.ID, "save-template")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", save)
    save.click()
    wait_for_text(browser, ".messages", "模板已保存。")
    items = EvaluationItem.objects.filter(category__template=template, category__sort_order=0)
    assert [(item.name, item.max_score) for item in items] == [
        ("坚持中国共产党的领导，政治立场坚定", D(10)),
        ("参加政治学习和培训", D(4)),
        ("遵守政治纪律", D(1)),
    ]

    for path, name in (("/manage/areas/", "areas"), ("/activities/types/", "types"),
                       (f"/assessment/templates/{template.pk}/", "template"),
                       ("/assessment/templates/", "templates")):  # fmt: skip
        browser.set_window_size(*DESKTOP)
        browser.get(f"{live_server.url}{path}")
        fits(browser, f"{name} on a desktop")
        screenshot(f"{name}-desktop")
    browser.set_window_size(*PHONE)
    browser.get(f"{live_server.url}/assessment/templates/")
    fits(browser, "templates")
    screenshot("templates-phone")

    # Once a round scores against it, its items are shown read-only, with the copy offered.
    services.round_create(
        actor=_user("erin", User.Role.DISTRICT, areas["140106"]),
        data={"area": areas["140106001"], "name": "综合评价", "template": template},
    )
    browser.get(f"{live_server.url}/assessment/templates/{template.pk}/")
    note = browser.find_element(By.CSS_SELECTOR, ".template-used")
    assert "1 个综合评价轮次按此模板评分" in note.text and "复制为新模板" in note.text
    assert not browser.find_elements(By.NAME, "c-TOTAL_FORMS")
    fits(browser, "used template")
    screenshot("used-template-phone")
