"""One story between the levels, through the browser (issue 16): the district sends a notice
and a task to the communities of its two streets; a community worker reads, does and reports
on a phone; the district returns the report once, then approves it; its supervision table
shows each community's state; a need referred up to the street is accepted and resolved; and
the header's to-do count of each user moves with every step."""

import datetime

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from activities import services as activity_services
from activities.models import Need
from liaison import services as liaison_services
from liaison.models import NoticeCopy, Task, TaskCopy

from .conftest import DESKTOP, PHONE
from .helpers import log_in, wait_for_text

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

QIAODONG, WUYIER, FUDONG = "140106001001", "140106001002", "140106002001"


def badge(browser) -> int:
    """The header's to-do count (no badge when nothing waits)."""
    found = browser.find_elements(By.CSS_SELECTOR, ".account a.todo .badge")
    return int(found[0].text) if found else 0


def fits(browser) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    return browser.execute_script(
        "return Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )


def sign_in(browser, live_server, username, size):
    browser.delete_all_cookies()
    browser.set_window_size(*size)
    log_in(browser, live_server, username)


def tick(browser, text):
    label = browser.find_element(By.XPATH, f"//label[contains(normalize-space(.), '{text}')]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", label)
    checkbox = label.find_element(By.TAG_NAME, "input")
    if not checkbox.is_selected():
        label.click()


def set_date(browser, name, day):
    browser.execute_script(
        "document.querySelector(arguments[0]).value = arguments[1]",
        f"[name={name}]",
        day.isoformat(),
    )


def todo_items(browser, key) -> list[str]:
    """The lines of one group of 我的待办 (none when the group is not there)."""
    return [
        item.text for item in browser.find_elements(By.CSS_SELECTOR, f"#todo-{key} .todo-list li")
    ]


def test_notice_task_and_need_between_the_levels(
    browser,
    live_server,
    areas,
    community_user,
    neighbour_user,
    street_user,
    district_user,
    member,
    screenshot,
):
    today = timezone.localdate()
    deadline = today + datetime.timedelta(days=7)

    # -- Before: nothing waits on alice.
    sign_in(browser, live_server, "alice", PHONE)
    assert badge(browser) == 0

    # -- 1. The district sends a notice to the communities of both its streets, on a desktop.
    sign_in(browser, live_server, "erin", DESKTOP)
    browser.get(f"{live_server.url}/liaison/notices/")
    browser.find_element(By.LINK_TEXT, "发通知").click()
    wait_for_text(browser, "h1", "发通知")
    browser.find_element(By.NAME, "title").send_keys("关于做好岁末走访慰问的通知")
    browser.find_element(By.NAME, "body").send_keys("请各社区做好走访慰问准备。")
    # The form sends to every community of one area, or to the communities ticked: two
    # streets are their communities ticked.
    offered = [option.text for option in Select(browser.find_element(By.NAME, "area")).options]
    assert offered[1:] == ["迎泽区", "柳巷街道", "文庙街道"]
    browser.find_element(By.CSS_SELECTOR, ".recipients summary").click()
    for name in ("柳巷街道 · 桥东一社区", "柳巷街道 · 五一二社区", "文庙街道 · 府东一社区"):
        tick(browser, name)
    screenshot("1-notice-form-desktop")
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()
    wait_for_text(browser, "main", "通知已发送")
    assert "0 / 3" in browser.find_element(By.ID, "count-read").text
    assert NoticeCopy.objects.filter(notice__title="关于做好岁末走访慰问的通知").count() == 3

    # ... and a task to the same communities, with a deadline.
    browser.get(f"{live_server.url}/liaison/tasks/new/")
    wait_for_text(browser, "h1", "下发任务")
    browser.find_element(By.NAME, "title").send_keys("岁末走访慰问")
    browser.find_element(By.NAME, "body").send_keys("走访慰问辖区内困难统战对象，报送走访情况。")
    set_date(browser, "deadline", deadline)
    for name in ("桥东一社区", "五一二社区", "府东一社区"):
        tick(browser, name)
    screenshot("1-task-form-desktop")
    browser.find_element(By.CSS_SELECTOR, ".form-actions button[type=submit]").click()
    wait_for_text(browser, "main", "任务已下发")
    task = Task.objects.get(title="岁末走访慰问")
    assert sorted(task.copies.values_list("area__code", flat=True)) == [QIAODONG, WUYIER, FUDONG]
    assert badge(browser) == 0  # nothing of it waits on the district yet
    screenshot("1-task-sent-desktop")

    # -- 2. The community worker, on a phone: two things wait.
    sign_in(browser, live_server, "alice", PHONE)
    assert badge(browser) == 2
    browser.find_element(By.CSS_SELECTOR, ".account a.todo").click()
    wait_for_text(browser, "h1", "我的待办")
    notices = todo_items(browser, "notices")
    tasks = todo_items(browser, "tasks")
    assert len(notices) == 1 and "关于做好岁末走访慰问的通知" in notices[0]
    assert "未读" in notices[0] and "迎泽区" in notices[0]
    assert len(tasks) == 1 and "岁末走访慰问" in tasks[0] and "待接收" in tasks[0]
    assert deadline.isoformat() in tasks[0]
    assert fits(browser) == 0
    screenshot("2-todo-phone")

    # Reading the notice takes it off the list.
    browser.find_element(By.LINK_TEXT, "关于做好岁末走访慰问的通知").click()
    wait_for_text(browser, "h1", "关于做好岁末走访慰问的通知")
    assert badge(browser) == 1
    assert fits(browser) == 0
    screenshot("2-notice-read-phone")

    # Receive, start and report the task.
    browser.find_element(By.CSS_SELECTOR, ".account a.todo").click()
    wait_for_text(browser, "h1", "我的待办")
    assert todo_items(browser, "notices") == []
    browser.find_element(By.LINK_TEXT, "岁末走访慰问").click()
    wait_for_text(browser, "#copy-state", "下发")
    browser.find_element(By.ID, "receive").click()
    wait_for_text(browser, "#copy-state", "已接收")
    browser.find_element(By.ID, "start").click()
    wait_for_text(browser, "#copy-state", "办理中")
    assert badge(browser) == 1  # started is still to be reported
    browser.find_element(By.ID, "report").click()
    browser.find_element(By.NAME, "report").send_keys("已走访8户")
    screenshot("2-report-form-phone")
    browser.find_element(By.CSS_SELECTOR, "form.task-report-form button[type=submit]").click()
    wait_for_text(browser, "#copy-state", "已完成")
    assert badge(browser) == 0
    assert fits(browser) == 0
    screenshot("2-reported-phone")

    # -- 3. The task came from the district: the district reviews and returns it once.
    copy = TaskCopy.objects.get(task=task, area=areas[QIAODONG])
    assert not liaison_services.taskcopy_may_review(street_user, copy)
    assert liaison_services.taskcopy_may_review(district_user, copy)
    sign_in(browser, live_server, "erin", DESKTOP)
    assert badge(browser) == 1
    browser.find_element(By.CSS_SELECTOR, ".account a.todo").click()
    wait_for_text(browser, "h1", "我的待办")
    (line,) = todo_items(browser, "tasks")
    assert "岁末走访慰问（桥东一社区）" in line and "待审核" in line
    browser.find_element(By.PARTIAL_LINK_TEXT, "岁末走访慰问").click()
    wait_for_text(browser, "#copy-state", "已完成")
    assert "已走访8户" in browser.find_element(By.ID, "copy-report").text
    browser.find_element(By.NAME, "reason").send_keys("请补充走访对象名单")
    screenshot("3-review-desktop")
    browser.find_element(By.ID, "send-back").click()
    wait_for_text(browser, "#copy-state", "已退回")
    assert badge(browser) == 0

    # The worker finds it back on her list, with the reason, and reports again.
    sign_in(browser, live_server, "alice", PHONE)
    assert badge(browser) == 1
    browser.find_element(By.CSS_SELECTOR, ".account a.todo").click()
    wait_for_text(browser, "h1", "我的待办")
    (line,) = todo_items(browser, "tasks")
    assert "岁末走访慰问" in line and "已退回" in line
    browser.find_element(By.LINK_TEXT, "岁末走访慰问").click()
    wait_for_text(browser, "#returned-reason", "请补充走访对象名单")
    assert fits(browser) == 0
    screenshot("3-returned-phone")
    browser.find_element(By.ID, "report").click()
    report = browser.find_element(By.NAME, "report")
    assert report.get_attribute("value") == "已走访8户"  # the report as it was, to mend
    report.send_keys("：张三、李四等8户，名单见附件")
    browser.find_element(By.CSS_SELECTOR, "form.task-report-form button[type=submit]").click()
    wait_for_text(browser, "#copy-state", "已完成")
    assert badge(browser) == 0

    sign_in(browser, live_server, "erin", DESKTOP)
    assert badge(browser) == 1
    browser.get(f"{live_server.url}/liaison/tasks/copies/{copy.pk}/")
    browser.find_element(By.ID, "approve").click()
    # Approving is final: a page says what follows (on time, counted) before it is done.
    wait_for_text(browser, "#what-happens", "按时完成")
    screenshot("3-approve-confirm-desktop")
    browser.find_element(By.ID, "confirm").click()
    wait_for_text(browser, "#copy-state", "已审核")
    assert badge(browser) == 0
    history = browser.find_element(By.CSS_SELECTOR, ".task-history").text
    assert "请补充走访对象名单" in history and "名单见附件" in history
    screenshot("3-approved-desktop")

    # -- 4. The supervision table: one approved, one received, one issued and overdue.
    liaison_services.taskcopy_receive(
        actor=neighbour_user, copy=TaskCopy.objects.get(task=task, area=areas[WUYIER])
    )
    Task.objects.filter(pk=task.pk).update(deadline=today - datetime.timedelta(days=2))
    browser.get(f"{live_server.url}/liaison/tasks/{task.pk}/")
    wait_for_text(browser, "table.supervision", "府东一社区")
    rows = {
        row.text.split()[0]: row.text
        for row in browser.find_elements(By.CSS_SELECTOR, "table.supervision tbody tr")
    }
    assert set(rows) == {"桥东一社区", "五一二社区", "府东一社区"}
    assert "已审核" in rows["桥东一社区"] and "已超期" not in rows["桥东一社区"]
    assert "已接收" in rows["五一二社区"] and "已超期" in rows["五一二社区"]
    assert "下发" in rows["府东一社区"] and "已超期" in rows["府东一社区"]
    assert browser.find_element(By.ID, "count-approved").text == "1"
    assert browser.find_element(By.ID, "count-overdue").text == "2"
    screenshot("4-supervision-desktop")
    browser.set_window_size(*PHONE)
    assert fits(browser) == 0
    table = browser.find_element(By.CSS_SELECTOR, "table.supervision")
    browser.execute_script("arguments[0].scrollIntoView()", table)
    screenshot("4-supervision-phone")

    # -- 5. A need the community cannot solve goes up to its street.
    need = activity_services.need_create(
        actor=community_user, member=member, data={"kind": "legal", "description": "房屋产权纠纷"}
    )
    sign_in(browser, live_server, "charlie", PHONE)
    assert badge(browser) == 0
    sign_in(browser, live_server, "alice", PHONE)
    before = badge(browser)
    browser.get(f"{live_server.url}/activities/needs/{need.pk}/")
    assert Select(browser.find_element(By.NAME, "to_area")).first_selected_option.text in (
        "柳巷街道",
        "柳巷街道（街道）",
    )
    browser.find_element(By.NAME, "note").send_keys("涉及产权登记，社区无法协调")
    browser.find_element(By.ID, "refer-need").click()
    wait_for_text(browser, "#need-held", "柳巷街道")
    # Her own needs are not on her to-do list: referring one up leaves her count as it was.
    assert badge(browser) == before
    assert fits(browser) == 0
    screenshot("5-referred-phone")

    sign_in(browser, live_server, "charlie", PHONE)
    assert badge(browser) == 1
    browser.find_element(By.CSS_SELECTOR, ".account a.todo").click()
    wait_for_text(browser, "h1", "我的待办")
    (line,) = todo_items(browser, "needs")
    assert "张三" in line and "待受理" in line and "桥东一社区" in line
    assert fits(browser) == 0
    screenshot("5-street-todo-phone")
    browser.find_element(By.PARTIAL_LINK_TEXT, "张三").click()
    browser.find_element(By.ID, "accept-need").click()
    wait_for_text(browser, "#need-held", "由柳巷街道承办")
    assert badge(browser) == 1  # accepted and open: still his to do
    Select(browser.find_element(By.NAME, "status")).select_by_visible_text("已办结")
    browser.find_element(By.NAME, "resolution").send_keys("协调不动产登记中心，已办理。")
    Select(browser.find_element(By.NAME, "satisfaction")).select_by_visible_text("满意")
    browser.find_element(By.ID, "change-status").click()
    wait_for_text(browser, "#need-status", "已办结")
    assert badge(browser) == 0
    path = [
        step.text for step in browser.find_elements(By.CSS_SELECTOR, ".need-history .need-path")
    ]
    assert "桥东一社区 → 柳巷街道" in path
    history = browser.find_element(By.CSS_SELECTOR, ".need-history")
    assert "涉及产权登记，社区无法协调" in history.text
    assert "协调不动产登记中心，已办理。" in history.text
    browser.execute_script("arguments[0].scrollIntoView()", history)
    assert fits(browser) == 0
    screenshot("5-resolved-phone")
    need.refresh_from_db()
    assert need.status == Need.Status.RESOLVED

    # The community sees the path too.
    sign_in(browser, live_server, "alice", PHONE)
    browser.get(f"{live_server.url}/activities/needs/{need.pk}/")
    wait_for_text(browser, "#need-status", "已办结")
    WebDriverWait(browser, 5).until(
        lambda driver: (
            "桥东一社区 → 柳巷街道" in driver.find_element(By.CSS_SELECTOR, ".need-history").text
        )
    )
    screenshot("5-community-sees-path-phone")
