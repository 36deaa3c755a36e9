"""The score grid in a browser: the district fills its items on a desktop, a street officer
hers on a phone, where the table scrolls sideways inside its box and the page does not."""

import datetime
import io
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from assessment import grids, services
from assessment.models import EvaluationScore, EvaluationTemplate, Indicator, ManualScore
from members.tests.factories import MemberFactory

from .conftest import DESKTOP, PHONE
from .helpers import log_in, replaced, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _period(areas, district_user):
    year = datetime.date.today().year
    period = services.period_create(
        actor=district_user,
        data={"district": areas["140106"], "name": f"{year}年度考核",
              "starts_on": datetime.date(year, 1, 1), "ends_on": datetime.date(year, 12, 31)},
    )  # fmt: skip
    for name, kind, weight, by in (
        ("组织建设", Indicator.Kind.SCORED, 40, "street"),
        ("制度建设", Indicator.Kind.SCORED, 30, "street"),
        ("台账规范", Indicator.Kind.SCORED, 30, "street"),
        ("创新加分", Indicator.Kind.BONUS, 5, "district"),
        ("信息报送不及时", Indicator.Kind.DEDUCTION, 5, "district"),
    ):
        services.indicator_add(
            actor=district_user, period=period,
            data={"name": name, "kind": kind, "weight": D(weight), "scored_by": by},
        )  # fmt: skip
    services.period_open(actor=district_user, period=period)
    return period


def _overflow(browser) -> int:
    return browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")


def _cell(browser, community, item):
    indicator = Indicator.objects.get(name=item)
    return browser.find_element(By.NAME, f"cell-{community.code}-{indicator.pk}")


def _save(browser):
    button = browser.find_element(By.ID, "save-grid")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    WebDriverWait(browser, 15).until(replaced(button))


def test_the_district_fills_the_grid_on_a_desktop_and_a_street_officer_on_a_phone(
    browser, live_server, areas, street_user, district_user, screenshot
):
    period = _period(areas, district_user)
    qiaodong, wuyier = areas["140106001001"], areas["140106001002"]
    log_in(browser, live_server, "erin")
    browser.set_window_size(*DESKTOP)
    browser.get(f"{live_server.url}/assessment/{period.pk}/")
    browser.find_element(By.ID, "score-grid").click()
    head = browser.find_element(By.CSS_SELECTOR, ".score-grid thead").text
    assert "创新加分" in head and "满分 5" in head and "组织建设" not in head
    _cell(browser, qiaodong, "创新加分").send_keys("3")
    _cell(browser, areas["140106002001"], "信息报送不及时").send_keys("1.5")
    browser.find_element(By.NAME, "evidence").send_keys("区级年终检查")
    _save(browser)
    wait_for_text(browser, ".messages", "已保存 2 项评分。")
    assert _overflow(browser) <= 0
    screenshot("desktop")
    assert ManualScore.objects.get(indicator__name="创新加分").points == 3

    browser.delete_all_cookies()
    log_in(browser, live_server, "charlie")
    browser.set_window_size(*PHONE)
    browser.get(f"{live_server.url}/assessment/{period.pk}/scores/")
    rows = browser.find_elements(By.CSS_SELECTOR, ".score-grid tbody th")
    assert [row.text for row in rows] == ["桥东一社区", "五一二社区"]
    box = browser.find_element(By.CSS_SELECTOR, ".grid-scroll")
    assert browser.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", box)
    assert rows[0].value_of_css_property("position") == "sticky"
    field = _cell(browser, wuyier, "组织建设")
    assert field.get_attribute("inputmode") == "decimal"
    field.send_keys("50")
    _cell(browser, qiaodong, "组织建设").send_keys("36")
    browser.find_element(By.NAME, "evidence").send_keys("现场检查")
    _save(browser)
    wait_for_text(browser, "#grid-errors", "五一二社区 × 组织建设：超过满分40")
    assert not ManualScore.objects.filter(indicator__name="组织建设").exists()
    assert _overflow(browser) <= 0
    screenshot("phone-refused")
    field = _cell(browser, wuyier, "组织建设")
    field.clear()
    field.send_keys("38")
    _save(browser)
    wait_for_text(browser, ".messages", "已保存 2 项评分。")
    assert _overflow(browser) <= 0
    # Scrolled sideways, the community names stay in view.
    browser.execute_script("document.querySelector('.grid-scroll').scrollLeft = 400")
    screenshot("phone")
    assert ManualScore.objects.filter(indicator__name="组织建设").count() == 2


def test_a_street_officer_uploads_the_filled_sheet_and_confirms_it_on_a_phone(
    browser, live_server, areas, street_user, district_user, screenshot, tmp_path
):
    period = _period(areas, district_user)
    book = load_workbook(io.BytesIO(grids.write_xlsx(grids.period_grid(street_user, period))))
    book.active["C3"], book.active["D4"] = 35, 28.5
    path = tmp_path / "评分表.xlsx"
    book.save(path)
    log_in(browser, live_server, "charlie")
    browser.get(f"{live_server.url}/assessment/{period.pk}/scores/")
    browser.find_element(By.ID, "upload-grid").click()
    browser.find_element(By.NAME, "file").send_keys(str(path))
    button = browser.find_element(By.ID, "send-upload")
    button.click()
    WebDriverWait(browser, 15).until(replaced(button))
    preview = browser.find_element(By.CSS_SELECTOR, "#grid-preview").text
    assert "将修改 2 项评分" in preview and "28.5" in preview
    assert _overflow(browser) <= 0
    screenshot("preview")
    browser.find_element(By.NAME, "evidence").send_keys("年终检查")
    button = browser.find_element(By.ID, "confirm-upload")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    wait_for_text(browser, ".messages", "已保存 2 项评分。")
    assert ManualScore.objects.get(indicator__name="制度建设").points == D("28.5")


def test_the_district_enters_the_superiors_review_of_a_round_as_a_grid(
    browser, live_server, areas, district_user, screenshot
):
    for name, code in (("甲", "140106001001"), ("乙", "140106001002")):
        MemberFactory(name=name, community=areas[code], is_representative=True)
    evaluation_round = services.round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "2026年综合评价",
              "template": EvaluationTemplate.objects.get(is_example=True)},
    )  # fmt: skip
    log_in(browser, live_server, "erin")
    browser.set_window_size(*DESKTOP)
    browser.get(f"{live_server.url}/assessment/evaluations/{evaluation_round.pk}/")
    browser.find_element(By.ID, "score-grid").click()
    sources = browser.find_element(By.CSS_SELECTOR, ".grid-sources").text
    assert "上级评议" in sources and "自我评价" in sources and "社会评价" in sources
    jia = evaluation_round.evaluations.get(member__name="甲")
    first = browser.find_element(By.CSS_SELECTOR, f"input[name^='cell-{jia.pk}-']")
    first.send_keys("8")
    _save(browser)
    wait_for_text(browser, ".messages", "已保存 1 项评分。")
    assert _overflow(browser) <= 0
    screenshot("desktop")
    browser.set_window_size(*PHONE)
    assert _overflow(browser) <= 0
    screenshot("phone")
    assert EvaluationScore.objects.get().source == "superior"
