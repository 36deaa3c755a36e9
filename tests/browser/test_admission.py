"""A nominee admitted through an admission evaluation (凡进必评, issue 18): the community
nominates her, the district evaluates her in an admission round, confirms it, decides 同意入选
on a confirmation page; her page then shows 代表人士 and the register lists her entry."""

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from assessment import services
from assessment.models import EvaluationItem, EvaluationTemplate
from members.models import Member
from members.tests.factories import MemberFactory

from .conftest import DESKTOP
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def set_day(browser, name, day):
    # A date input takes the day as its picker gives it, whatever the keyboard's locale.
    browser.execute_script(
        "document.querySelector(`[name=${arguments[0]}]`).value = arguments[1]", name, day
    )


def test_a_nominee_admitted_through_an_admission_evaluation(
    browser, live_server, areas, community_user, district_user, admin_user, screenshot
):
    member = MemberFactory(name="林入选", community=areas["140106001001"])
    template = services.template_copy(
        actor=admin_user, template=EvaluationTemplate.objects.get(is_example=True), name="入选评价"
    )
    EvaluationTemplate.objects.filter(pk=template.pk).update(kind="admission")
    browser.set_window_size(*DESKTOP)

    # The community nominates her: the page shows no checkbox, a nomination instead.
    log_in(browser, live_server, "alice")
    browser.get(f"{live_server.url}/members/{member.pk}/")
    assert "不是代表人士" in browser.find_element(By.ID, "representative-state").text
    browser.find_element(By.ID, "nominate-member").click()
    browser.find_element(By.NAME, "reason").send_keys("热心社区公益，履职积极")
    browser.find_element(By.ID, "nominate").click()
    wait_for_text(browser, "#representative", "待评价和决定")

    # The district holds an admission round over her.
    browser.delete_all_cookies()
    log_in(browser, live_server, "erin")
    browser.get(f"{live_server.url}/assessment/evaluations/")
    Select(browser.find_element(By.NAME, "area")).select_by_visible_text("柳巷街道")
    browser.find_element(By.NAME, "name").send_keys("2026年代表人士入选评价")
    Select(browser.find_element(By.NAME, "template")).select_by_visible_text("入选评价")
    browser.find_element(By.CSS_SELECTOR, "input[name=nominees]").click()
    browser.find_element(By.ID, "create-round").click()
    wait_for_text(browser, "#nominees", "林入选")
    evaluation = member.evaluations.get()
    items = EvaluationItem.objects.filter(category__template=template, is_veto=False)
    for source in ("superior", "self", "public"):
        services.evaluation_score(
            actor=district_user, evaluation=evaluation, source=source,
            scores={item: item.max_score * 9 / 10 for item in items},
        )  # fmt: skip

    # Confirmed: nobody's flag changes.
    browser.refresh()
    browser.find_element(By.ID, "confirm-round").click()
    assert "不改变任何人的代表人士标记" in browser.find_element(By.ID, "admission-confirm").text
    browser.find_element(By.ID, "confirm-outcome").click()
    wait_for_text(browser, "#nominees", "通过")
    assert not Member.objects.get(pk=member.pk).is_representative

    # The district decides 同意入选, and confirms it once more.
    row = browser.find_element(By.ID, f"nominee-{member.pk}")
    Select(row.find_element(By.NAME, "decision")).select_by_visible_text("同意入选")
    set_day(browser, "decided_on", timezone.localdate().isoformat())
    row.find_element(By.NAME, "note").send_keys("部务会研究同意")
    screenshot("decision")
    row.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert "同意入选" in browser.find_element(By.ID, "confirm-subject").text
    browser.find_element(By.ID, "confirm").click()
    wait_for_text(browser, f"#nominee-{member.pk}", "部务会研究同意")

    # Her page shows 代表人士, and the register lists her entry.
    browser.get(f"{live_server.url}/members/{member.pk}/")
    assert "代表人士" in browser.find_element(By.CSS_SELECTOR, "h1 .badge").text
    assert "同意入选" in browser.find_element(By.ID, "representative").text
    browser.get(f"{live_server.url}/members/representatives/register/")
    entry = browser.find_element(By.CSS_SELECTOR, "#register tr.register-entry")
    assert "林入选" in entry.text and "进" in entry.text
    year = timezone.localdate().year
    assert browser.find_element(By.ID, f"entries-{year}").text == "1"
    screenshot("register")
