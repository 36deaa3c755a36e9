"""The measures counted from the liaison app (issue 16): tasks done on time, reports adopted and
workers' training hours, each equal to what was logged in the period, live and once final."""

import datetime
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from assessment import services
from assessment.models import Indicator, Result, Target
from assessment.standings import measure, standings
from conftest import _user
from liaison import services as liaison
from liaison.models import Attendance, Report, Task, TaskCopy
from tongzhan.dates import local_days, local_midnight

from .conftest import YEAR, populate

pytestmark = pytest.mark.django_db

QIAODONG, WUYIER, FUDONG = "140106001001", "140106001002", "140106002001"
# In the span (below) and always past, whatever day the tests run.
DEADLINE = datetime.date(YEAR - 1, 6, 30)
SECOND = datetime.timedelta(seconds=1)


@pytest.fixture
def span(areas, district_user):
    """A period from last year to next: its tasks are due in the past or ahead of today."""
    return services.period_create(
        actor=district_user,
        data={"district": areas["140106"], "name": "三年", "model_communities": 1,
              "starts_on": datetime.date(YEAR - 1, 1, 1),
              "ends_on": datetime.date(YEAR + 1, 12, 31)},
    )  # fmt: skip


def measured(period, actor, metric, **fields):
    return services.indicator_add(
        actor=actor,
        period=period,
        data={"name": metric, "kind": "measured", "metric": metric, "weight": D(10),
              "rule": "fixed", "base": D(1), **fields},
    )  # fmt: skip


def task_due(street_user, *communities, deadline=DEADLINE, title="中秋走访") -> Task:
    """A task sent to `communities`, due on `deadline` (moved there after sending: a deadline
    already past is refused when sending)."""
    task = liaison.task_send(
        actor=street_user,
        data={"title": title, "body": "走访慰问",
              "deadline": timezone.localdate() + datetime.timedelta(days=10)},
        recipients=communities,
    )  # fmt: skip
    Task.objects.filter(pk=task.pk).update(deadline=deadline)
    return task


def reported(actor, task, community, at, **fields) -> TaskCopy:
    """The community's copy taken up and reported done, as if at the moment `at` (and with
    the completion day typed, `completed_on`: set afterwards like the moment, since these
    tasks are sent today and dated back, and the service refuses a day before the sending)."""
    copy = TaskCopy.objects.get(task=task, area=community)
    if copy.state == TaskCopy.State.ISSUED:
        liaison.taskcopy_receive(actor=actor, copy=copy)
        liaison.taskcopy_start(actor=actor, copy=copy)
    typed = fields.pop("completed_on", None)
    liaison.taskcopy_report(actor=actor, copy=copy, report="已完成", **fields)
    TaskCopy.objects.filter(pk=copy.pk).update(reported_at=at)
    if typed is not None:
        TaskCopy.objects.filter(pk=copy.pk).update(completed_on=typed)
    copy.refresh_from_db()
    return copy


def on_time_share(period, indicator, areas):
    actual = measure(period, [indicator], [areas[code].pk for code in (QIAODONG, WUYIER, FUDONG)])
    return [actual[indicator.pk, areas[code].pk] for code in (QIAODONG, WUYIER, FUDONG)]


def test_tasks_done_on_time_are_the_share_reported_done_by_the_deadline(
    areas, span, district_user, street_user, community_user, neighbour_user
):
    period = span
    qiaodong, wuyier = areas[QIAODONG], areas[WUYIER]
    indicator = measured(period, district_user, "tasks_on_time")
    last_moment = local_midnight(DEADLINE + datetime.timedelta(days=1)) - SECOND

    just_on_time = task_due(street_user, qiaodong, wuyier, title="just on time")
    reported(community_user, just_on_time, qiaodong, last_moment)
    reported(neighbour_user, just_on_time, wuyier, last_moment - datetime.timedelta(days=3))
    # A second late by the local day (16:00 UTC is midnight in Shanghai); the day the
    # reporter says it was done does not make it on time.
    just_late = task_due(street_user, qiaodong, wuyier, title="just late")
    reported(community_user, just_late, qiaodong, last_moment + SECOND, completed_on=DEADLINE)
    approved = task_due(street_user, qiaodong, title="approved")
    copy = reported(community_user, approved, qiaodong, last_moment - datetime.timedelta(days=1))
    liaison.taskcopy_approve(actor=street_user, copy=copy)
    task_due(street_user, qiaodong, title="never reported")
    # Due ahead: not late yet while open (Qiaodong's), on time once done (Wuyier's).
    ahead = task_due(street_user, qiaodong, wuyier, deadline=timezone.localdate(), title="ahead")
    reported(neighbour_user, ahead, wuyier, timezone.now())
    # Due outside the period: not counted, on time or not.
    for deadline in (datetime.date(YEAR - 2, 12, 31), datetime.date(YEAR + 2, 1, 1)):
        outside = task_due(street_user, qiaodong, deadline=deadline, title=f"{deadline}")
        reported(community_user, outside, qiaodong, local_midnight(deadline))

    # Qiaodong: 2 of 4 on time (on time and approved; late, never reported). Wuyier: 2 of 3
    # (on time, ahead; its copy of the late one never reported). Fudong, in another street,
    # was sent nothing: nothing it was asked was late.
    assert on_time_share(period, indicator, areas) == [D("50.0"), D("66.7"), D("100")]

    returned = task_due(street_user, qiaodong, title="returned")
    copy = reported(community_user, returned, qiaodong, last_moment - datetime.timedelta(days=5))
    assert on_time_share(period, indicator, areas)[0] == D("60.0")  # 3 of 5
    # Sent back: no longer done, so not on time (the first report counts no more) ...
    liaison.taskcopy_return(actor=street_user, copy=copy, reason="缺少照片")
    assert on_time_share(period, indicator, areas)[0] == D("40.0")  # 2 of 5
    # ... and reported again after the deadline, it is late.
    reported(community_user, returned, qiaodong, last_moment + datetime.timedelta(days=2))
    assert on_time_share(period, indicator, areas)[0] == D("40.0")


def adopt(report, actor, at=None, decision="adopted"):
    """Decided by `actor` (adopted unless told), as if at the moment `at` (now if None)."""
    comment = "已采用" if decision == "adopted" else "与本社区无关"
    liaison.report_decide(actor=actor, report=report, decision=decision, comment=comment)
    if at is not None:
        Report.objects.filter(pk=report.pk).update(decided_at=at)
    return report


def send(actor, to_area=None, title="居民反映停车难"):
    return liaison.report_submit(
        actor=actor,
        data={"kind": "public_opinion", "title": title, "body": "小区停车位不足。"},
        to_area=to_area,
        uploads=(),
    )


def test_reports_adopted_are_those_adopted_in_the_period_by_the_local_day(
    areas, period, district_user, street_user, community_user, neighbour_user
):
    qiaodong, wuyier, fudong = areas[QIAODONG], areas[WUYIER], areas[FUDONG]
    indicator = measured(period, district_user, "reports_adopted")
    start, end = local_days(period.starts_on, period.ends_on)
    adopt(send(community_user, title="first moment"), street_user, start)
    adopt(send(community_user, title="last moment"), street_user, end - SECOND)
    adopt(send(community_user, areas["140106"], "to the district"), district_user)  # today
    adopt(send(community_user, title="a second early"), street_user, start - SECOND)
    adopt(send(community_user, title="a moment late"), street_user, end)
    adopt(send(community_user, title="declined"), street_user, decision="declined")
    send(community_user, title="pending")
    adopt(send(neighbour_user, title="the neighbour's"), street_user)
    adopt(send(street_user, title="the street's own"), district_user)

    ids = [qiaodong.pk, wuyier.pk, fudong.pk]
    actual = measure(period, [indicator], ids)
    assert [actual[indicator.pk, pk] for pk in ids] == [3, 1, 0]
    # The same count the liaison app gives for each community and the period's days.
    assert [actual[indicator.pk, community.pk] for community in (qiaodong, wuyier, fudong)] == [
        Report.objects.adopted_in(community, start, end).count()
        for community in (qiaodong, wuyier, fudong)
    ]


def train(actor, area, date, hours, title="统战委员培训"):
    return liaison.training_create(
        actor=actor, data={"area": area, "title": title, "date": date, "hours": D(hours)}
    )


def test_training_hours_are_those_the_communitys_staff_attended_in_the_period(
    areas, period, district_user, street_user, community_user, neighbour_user
):
    qiaodong, wuyier, fudong = areas[QIAODONG], areas[WUYIER], areas[FUDONG]
    colleague = _user("amy", "community", qiaodong)
    indicator = measured(period, district_user, "training_hours")
    by_street = train(street_user, areas["140106001"], datetime.date(YEAR, 5, 1), "3")
    liaison.training_attendance_set(
        actor=street_user,
        training=by_street,
        users=[community_user, colleague, neighbour_user, street_user],
        hours={colleague.pk: "1.5"},  # she left early
    )
    last_day = train(district_user, areas["140106"], period.ends_on, "2", "年末培训")
    liaison.training_attendance_set(actor=district_user, training=last_day, users=[community_user])
    for date in (period.starts_on - datetime.timedelta(days=1), datetime.date(YEAR + 1, 1, 1)):
        outside = train(district_user, areas["140106"], date, "4", f"{date}")
        liaison.training_attendance_set(
            actor=district_user, training=outside, users=[community_user, neighbour_user]
        )

    ids = [qiaodong.pk, wuyier.pk, fudong.pk]
    actual = measure(period, [indicator], ids)
    # Qiaodong: 3 + 1.5 + 2; Wuyier: 3; the street's own officer counts for no community.
    assert [actual[indicator.pk, pk] for pk in ids] == [D("6.5"), 3, 0]
    # The same hours the liaison app gives each area for the year (the period is the year).
    by_area = Attendance.objects.hours_by_area(YEAR)
    assert [actual[indicator.pk, pk] for pk in ids] == [by_area.get(pk, 0) for pk in ids]


def test_the_new_measures_scale_their_targets_and_are_stored_when_finalized(
    client, areas, span, district_user, street_user, community_user, neighbour_user
):
    period = span
    qiaodong, wuyier = areas[QIAODONG], areas[WUYIER]
    populate(qiaodong, 4)
    populate(wuyier, 1)
    tasks = measured(period, district_user, "tasks_on_time", weight=D(40), base=D(80))
    reports = measured(
        period, district_user, "reports_adopted", weight=D(40), rule="tiers",
        tiers=[[0, 1], [3, 2]],
    )  # fmt: skip
    hours = measured(
        period, district_user, "training_hours", weight=D(20), rule="linear", base=D(2),
        rate=D("0.5"),
    )  # fmt: skip
    services.period_open(actor=district_user, period=period)
    targets = {
        (target.indicator_id, target.community.code): target.value
        for target in Target.objects.filter(indicator__period=period)
    }
    assert targets[tasks.pk, QIAODONG] == targets[tasks.pk, WUYIER] == 80  # fixed
    assert (targets[reports.pk, QIAODONG], targets[reports.pk, WUYIER]) == (2, 1)  # tiers
    # 2 + 0.5 × members, rounded half up: 4 members 4 hours, 1 member 3 (2.5), none 2.
    assert [targets[hours.pk, code] for code in (QIAODONG, WUYIER, FUDONG)] == [4, 3, 2]

    on_time = local_midnight(DEADLINE)
    due = task_due(street_user, qiaodong, wuyier)
    reported(community_user, due, qiaodong, on_time)
    task_due(street_user, qiaodong)  # not reported
    adopt(send(community_user), street_user)
    adopt(send(neighbour_user), street_user)
    session = train(street_user, areas["140106001"], datetime.date(YEAR, 1, 1), "3")
    liaison.training_attendance_set(actor=street_user, training=session, users=[community_user])

    live = {standing.community.code: standing for standing in standings(period)}
    expected = {
        # 1 of 2 on time: 50 ÷ 80 of 40 points; 1 of 2 reports: half of 40 points; 3 of 4
        # hours: 3 ÷ 4 of 20 points.
        QIAODONG: [
            (D(80), D("50.0"), D("25.00")),
            (D(2), D(1), D("20.00")),
            (D(4), D(3), D("15.00")),
        ],
        # Its one task not reported by the deadline: 0 %; one report, all it had
        # to send; no training.
        WUYIER: [(D(80), D("0.0"), D("0.00")), (D(1), D(1), D("40.00")), (D(3), D(0), D("0.00"))],
        # Nothing sent to it: 100 % (capped at full marks); no report adopted; no training.
        FUDONG: [(D(80), D(100), D("40.00")), (D(1), D(0), D("0.00")), (D(2), D(0), D("0.00"))],
    }
    assert {
        code: [(line.target, line.actual, line.score) for line in standing.lines]
        for code, standing in live.items()
    } == expected

    client.force_login(community_user)
    page = client.get(reverse("assessment:community", args=[period.pk, QIAODONG]))
    html = page.content.decode()
    # Each line, named as it was set up, with its score of its points.
    assert all(name in html for name in ("tasks_on_time", "reports_adopted", "training_hours"))
    assert all(score in html for score in ("25 / 40", "20 / 40", "15 / 20"))

    services.period_finalize(actor=district_user, period=period)
    # Work logged after finalizing changes nothing: the results keep what was logged.
    reported(neighbour_user, due, wuyier, on_time)
    adopt(send(neighbour_user, title="later"), street_user)
    liaison.training_attendance_set(
        actor=street_user, training=session, users=[community_user, neighbour_user]
    )
    stored = {
        result.community.code: [
            (D(line["target"]), D(line["actual"]), D(line["score"])) for line in result.breakdown
        ]
        for result in Result.objects.filter(period=period).select_related("community")
    }
    assert stored == expected
    assert {
        standing.community.code: [(line.target, line.actual, line.score) for line in standing.lines]
        for standing in standings(period)
    } == expected


def test_the_indicator_form_offers_the_new_measures(client, period, district_user):
    client.force_login(district_user)
    page = reverse("assessment:detail", args=[period.pk])
    html = client.get(page).content.decode()
    assert "按期完成任务比例" in html and "信息报送被采用数" in html and "统战委员培训学时" in html
    client.post(
        page,
        {"indicator-name": "按期完成任务", "indicator-kind": "measured",
         "indicator-metric": "tasks_on_time", "indicator-weight": "10",
         "indicator-rule": "linear", "indicator-base": "60", "indicator-rate": "0.5",
         "indicator-cap": "1", "indicator-sort_order": "0"},
    )  # fmt: skip
    indicator = Indicator.objects.get(period=period)
    assert (indicator.metric, indicator.rule) == (Indicator.Metric.TASKS_ON_TIME, "linear")
