"""The home page's 待办 card in a desktop and a phone window: it fits, and its links lead to
lists of as many as it says."""

import pytest
from selenium.webdriver.common.by import By

from assessment import services as assessment_services
from assessment.models import EvaluationTemplate
from dashboards.tests.conftest import build_world
from members.tests.factories import MemberFactory

from .conftest import DESKTOP, PHONE
from .helpers import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_todo_card_leads_to_what_waits(
    browser, live_server, areas, street_user, district_user, other_district_user, screenshot
):
    build_world(areas, street_user, district_user, other_district_user)
    MemberFactory(name="甲", community=areas["140106001001"], is_representative=True)
    assessment_services.round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "2026年综合评价",
              "template": EvaluationTemplate.objects.get(is_example=True)},
    )  # fmt: skip
    log_in(browser, live_server, "charlie")
    for size, name in ((DESKTOP, "desktop"), (PHONE, "phone")):
        browser.set_window_size(*size)
        browser.get(f"{live_server.url}/")
        card = browser.find_element(By.CSS_SELECTOR, ".card.todo")
        assert card.find_element(By.TAG_NAME, "h2").text == "待办"
        assert "待填评价表" in card.text and "甲" in card.text
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"
        screenshot(name)
    due = browser.find_element(By.CSS_SELECTOR, "#todo-due-soon")
    count = due.find_element(By.CSS_SELECTOR, ".number").text
    due.click()
    assert browser.find_element(By.ID, "count-due_soon").text == count
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.needs tbody tr")) == int(count)
    screenshot("need-list")
