"""An evaluation round as the district officer meets it: confirmation blocked while a
representative lacks scores, the scores entered, the outcome shown and confirmed, then the
round reopened and the representative flag given back (issue 13)."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from assessment import services
from assessment.models import EvaluationItem, EvaluationRound, EvaluationTemplate
from assessment.tests.conftest import talk_with_the_flagged
from members.models import Member
from members.tests.factories import MemberFactory

from .conftest import DESKTOP, PHONE
from .helpers import log_in, replaced, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def no_overflow(browser) -> bool:
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1"
    )


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_round_blocked_then_confirmed_and_reopened(
    browser, live_server, areas, district_user, screenshot, size
):
    for index, name in enumerate(["甲", "乙", "丙", "丁"]):
        community = areas["140106001001" if index % 2 else "140106001002"]
        MemberFactory(name=name, community=community, is_representative=True)
    template = EvaluationTemplate.objects.get(is_example=True)
    evaluation_round = services.round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "2026年综合评价", "template": template,
              "cut_share": 25},
    )  # fmt: skip
    items = list(EvaluationItem.objects.filter(category__template=template, is_veto=False))
    for evaluation in evaluation_round.evaluations.select_related("member"):
        share = {"甲": 95, "乙": 90, "丙": 85, "丁": 60}[evaluation.member.name]
        sources = ["superior"] if evaluation.member.name == "丙" else ["superior", "self", "public"]
        for source in sources:
            services.evaluation_score(
                actor=district_user, evaluation=evaluation, source=source,
                scores={item: item.max_score * share / 100 for item in items},
            )  # fmt: skip
    browser.set_window_size(*size)
    log_in(browser, live_server, "erin")
    round_url = f"{live_server.url}/assessment/evaluations/{evaluation_round.pk}/"

    # Blocked: 丙 has no self-assessment nor public assessment; no button to confirm.
    browser.get(round_url)
    wait_for_text(browser, "#missing-scores", "1 名代表人士还缺少评分")
    assert "丙" in browser.find_element(By.ID, "missing-scores").text
    assert "自我评价、社会评价" in browser.find_element(By.ID, "missing-scores").text
    assert not browser.find_elements(By.ID, "confirm-round")
    assert no_overflow(browser)
    screenshot("blocked")

    # The officer enters the missing sheets from the list.
    browser.find_element(By.LINK_TEXT, "丙").click()
    for source in ("self", "public"):
        for item in items:
            field = browser.find_element(By.NAME, f"{source}-item_{item.pk}")
            field.clear()
            field.send_keys(f"{item.max_score * 85 / 100:.2f}")
        save = browser.find_element(By.ID, f"save-{source}")
        save.click()
        # The saved page replaces this one (whose message may already say 分数已保存).
        WebDriverWait(browser, 15).until(replaced(save))
        wait_for_text(browser, ".messages", "分数已保存")

    # Now the round can be confirmed (the flagged 丁 had her talk, issue 18): the page says
    # who is flagged and who loses the flag.
    talk_with_the_flagged(evaluation_round, district_user)
    browser.get(round_url)
    assert not browser.find_elements(By.ID, "missing-scores")
    browser.find_element(By.ID, "confirm-round").click()
    wait_for_text(browser, "#flagged", "丁")
    flagged = browser.find_element(By.ID, "flagged").text
    assert "末位淘汰（第 4 名，共 4 人）" in flagged and "丙" not in flagged
    assert browser.find_element(By.ID, "count-loses").text == "1"
    assert no_overflow(browser)
    screenshot("confirmation")
    browser.find_element(By.ID, "confirm-outcome").click()
    wait_for_text(browser, ".messages", "评价结果已确认：1 人移出代表人士")
    assert not Member.objects.get(name="丁").is_representative
    assert no_overflow(browser)
    screenshot("confirmed")

    # Reopened within the 30 days: 丁 is a representative again.
    browser.find_element(By.ID, "reopen-round").click()
    wait_for_text(browser, "#restored", "丁")
    assert no_overflow(browser)
    screenshot("reopen")
    browser.find_element(By.ID, "reopen-outcome").click()
    wait_for_text(browser, ".messages", "本轮评价已重新打开：1 人恢复为代表人士")
    screenshot("reopened")
    assert Member.objects.get(name="丁").is_representative
    assert EvaluationRound.objects.get().state == EvaluationRound.State.OPEN
    browser.get(f"{live_server.url}/members/{Member.objects.get(name='丁').pk}/")
    wait_for_text(browser, ".member-timeline", "2026年综合评价重新打开")
    timeline = browser.find_element(By.CSS_SELECTOR, ".member-timeline")
    assert "2026年综合评价末位淘汰（第 4 名，共 4 人）" in timeline.text
    browser.execute_script("arguments[0].scrollIntoView()", timeline)
    screenshot("history")
