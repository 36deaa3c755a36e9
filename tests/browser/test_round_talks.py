"""A round held as a joint meeting whose flagged person needs a talk record before
confirmation (issue 18): the district officer records the meeting with the people's congress
and the CPPCC, finds the confirmation blocked for want of a talk with the lowest ranked, records
the warning talk, and confirms; her arrangement in office is cancelled with the round."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from assessment import services
from assessment.models import EvaluationItem, EvaluationTemplate, JointMeeting, TalkRecord
from members import services as member_services
from members.models import Member
from members.tests.factories import MemberFactory

from .conftest import DESKTOP, PHONE
from .helpers import log_in, replaced, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def no_overflow(browser) -> bool:
    return browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth + 1"
    )


def fill(browser, name, text):
    field = browser.find_element(By.NAME, name)
    field.clear()
    field.send_keys(text)


def submit(browser, button_id):
    button = browser.find_element(By.ID, button_id)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    WebDriverWait(browser, 15).until(replaced(button))


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_joint_meeting_round_whose_flagged_person_needs_a_talk_before_confirmation(
    browser, live_server, areas, district_user, screenshot, size
):
    for index, name in enumerate(["甲", "乙", "丙", "丁"]):
        community = areas["140106001001" if index % 2 else "140106001002"]
        MemberFactory(name=name, community=community, is_representative=True)
    seat = member_services.arrangement_add(
        actor=district_user, member=Member.objects.get(name="丁"),
        data={"body": "cppcc", "level": "district", "post": "委员"},
    )  # fmt: skip
    template = EvaluationTemplate.objects.get(is_example=True)
    evaluation_round = services.round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "2026年综合评价", "template": template,
              "cut_share": 25},
    )  # fmt: skip
    items = list(EvaluationItem.objects.filter(category__template=template, is_veto=False))
    for evaluation in evaluation_round.evaluations.select_related("member"):
        share = {"甲": 95, "乙": 90, "丙": 85, "丁": 60}[evaluation.member.name]
        for source in ("superior", "self", "public"):
            services.evaluation_score(
                actor=district_user, evaluation=evaluation, source=source,
                scores={item: item.max_score * share / 100 for item in items},
            )  # fmt: skip
    browser.set_window_size(*size)
    log_in(browser, live_server, "erin")
    round_url = f"{live_server.url}/assessment/evaluations/{evaluation_round.pk}/"

    # The round was held as a joint meeting: the officer records it from the round's page.
    browser.get(round_url)
    wait_for_text(browser, "#joint-meeting", "未以人大、政协联席评价的方式进行")
    browser.find_element(By.ID, "edit-meeting").click()
    wait_for_text(browser, "h1", "联席评价")
    browser.execute_script("document.querySelector('[name=held_on]').value = '2026-11-18'")
    for code in ("npc", "cppcc", "united_front"):
        box = browser.find_element(By.CSS_SELECTOR, f"input[name=bodies][value={code}]")
        browser.execute_script("arguments[0].click()", box)
    fill(browser, "other_bodies", "区工商联")
    fill(browser, "attendees", "张三 区人大常委会\n李四，区政协")
    fill(browser, "minutes", "会议听取了四名代表人士的述职，逐一评议。")
    screenshot("meeting-form")
    submit(browser, "save-meeting")
    wait_for_text(browser, ".messages", "联席评价会议已登记")
    meeting = browser.find_element(By.ID, "joint-meeting").text
    assert "2026-11-18" in meeting and "人大、政协、统战部、区工商联" in meeting
    assert "李四" in meeting and "区政协" in meeting
    assert JointMeeting.objects.get().attendees[1] == {"name": "李四", "unit": "区政协"}
    assert no_overflow(browser)
    screenshot("meeting")

    # Confirming is blocked: 丁, the lowest ranked, has had no talk yet.
    browser.find_element(By.ID, "confirm-round").click()
    wait_for_text(browser, "#talks", "丁")
    assert "缺少" in browser.find_element(By.ID, f"talk-{seat.member.evaluations.get().pk}").text
    assert "1 名被标记的代表人士没有谈话记录" in browser.find_element(By.ID, "talks-block").text
    assert not browser.find_element(By.ID, "confirm-outcome").is_enabled()
    assert no_overflow(browser)
    screenshot("blocked")

    # The warning talk, recorded from the link beside her name.
    browser.find_element(By.LINK_TEXT, "登记谈话").click()
    wait_for_text(browser, "h1", "谈话记录 · 丁")
    browser.execute_script(
        "arguments[0].click()",
        browser.find_element(By.CSS_SELECTOR, "input[name=kind][value=warning]"),
    )
    submit(browser, "save-talk")  # no date, nobody, nothing said: refused in Chinese
    wait_for_text(browser, "#talk-form", "请填写谈话日期。")
    assert "请填写谈话人。" in browser.find_element(By.ID, "talk-form").text
    browser.execute_script(
        "arguments[0].click()",
        browser.find_element(By.CSS_SELECTOR, "input[name=kind][value=warning]"),
    )
    browser.execute_script("document.querySelector('[name=held_on]').value = '2026-11-20'")
    fill(browser, "held_by", "区委统战部王部长")
    fill(browser, "content", "指出履职中的不足，提出改进要求。")
    fill(browser, "outcome", "本人表示接受。")
    screenshot("talk")
    submit(browser, "save-talk")
    wait_for_text(browser, ".messages", "谈话记录已保存")
    assert "警示谈话 2026-11-20 · 区委统战部王部长" in browser.find_element(By.ID, "talks").text
    assert not browser.find_elements(By.ID, "talks-block")
    screenshot("ready")

    # Confirmed: 丁 leaves the representatives and her seat is cancelled with the round.
    submit(browser, "confirm-outcome")
    wait_for_text(browser, ".messages", "评价结果已确认：1 人移出代表人士")
    assert TalkRecord.objects.get().held_by == "区委统战部王部长"
    assert not Member.objects.get(name="丁").is_representative
    seat.refresh_from_db()
    assert seat.state == "cancelled" and "2026年综合评价" in seat.end_reason
    assert "人大、政协" in browser.find_element(By.ID, "joint-meeting").text
    assert not browser.find_elements(By.ID, "edit-meeting")
    screenshot("confirmed")
