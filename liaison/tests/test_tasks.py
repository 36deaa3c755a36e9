"""Tasks and supervision (任务督办, issue 16): a task goes down to areas, each area's copy moves
下发 → 已接收 → 办理中 → 已完成 → 已审核 (or back with 退回), in the areas' scope."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from activities import services as activity_services
from activities.models import ActivityType
from liaison import services
from liaison.models import Task, TaskCopy
from members.tests.factories import MemberFactory
from tongzhan.models import Area, AuditEvent
from tongzhan.services import area_merge

pytestmark = pytest.mark.django_db

QIAODONG, WUYIER, LIUXIANG, FUDONG = "140106001001", "140106001002", "140106001", "140106002001"
PDF = b"%PDF-1.7\n" + b"0" * 200
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200


def send(actor, *areas, deadline=None, title="中秋走访", **kwargs) -> Task:
    return services.task_send(
        actor=actor,
        data={
            "title": title,
            "body": "走访慰问辖区统战对象",
            "deadline": deadline or timezone.localdate() + datetime.timedelta(days=10),
        },
        recipients=areas,
        **kwargs,
    )


def copy_of(task, area) -> TaskCopy:
    return TaskCopy.objects.get(task=task, area=area)


def activity_in(actor, area, title="中秋联谊会"):
    return activity_services.activity_create(
        actor=actor,
        data={
            "type": ActivityType.objects.get(code="fellowship"),
            "title": title,
            "starts_at": timezone.now(),
            "area": area,
        },
    )


def visit_in(actor, area):
    return activity_services.visit_create(
        actor=actor,
        data={"community": area, "date": timezone.localdate(), "staff": "王", "way": "home"},
        members=[MemberFactory(community=area)],
    )


def test_a_task_lives_from_issued_to_approved_through_a_return(
    areas, street_user, community_user, neighbour_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    task = send(street_user, areas[QIAODONG], areas[WUYIER])
    ours, theirs = copy_of(task, areas[QIAODONG]), copy_of(task, areas[WUYIER])
    assert {ours.state, theirs.state} == {TaskCopy.State.ISSUED}

    services.taskcopy_receive(actor=community_user, copy=ours)
    services.taskcopy_start(actor=community_user, copy=ours)
    activity = activity_in(community_user, areas[QIAODONG])
    services.taskcopy_report(
        actor=community_user,
        copy=ours,
        report="走访 12 户",
        activities=[activity],
        uploads=[SimpleUploadedFile("照片.pdf", PDF, "application/pdf")],
    )
    ours.refresh_from_db()
    assert ours.state == TaskCopy.State.DONE and ours.holder == community_user
    assert list(ours.activities.all()) == [activity]
    assert ours.files.get().name == "照片.pdf" and ours.completed_on == timezone.localdate()

    services.taskcopy_return(actor=street_user, copy=ours, reason="缺少照片")
    ours.refresh_from_db()
    assert ours.state == TaskCopy.State.IN_PROGRESS and ours.is_returned
    assert str(ours.state_label) == "已退回"

    services.taskcopy_report(actor=community_user, copy=ours, report="补充照片")
    ours.refresh_from_db()
    assert ours.state == TaskCopy.State.DONE and not ours.is_returned
    services.taskcopy_approve(actor=street_user, copy=ours)
    ours.refresh_from_db()
    assert ours.state == TaskCopy.State.APPROVED and ours.reviewed_by == street_user

    # Each change is a line of the copy's history, and of the audit log.
    assert [(e.action, e.from_state, e.to_state) for e in ours.events.all()] == [
        ("send", "", "issued"),
        ("receive", "issued", "received"),
        ("start", "received", "in_progress"),
        ("report", "in_progress", "done"),
        ("return", "done", "in_progress"),
        ("report", "in_progress", "done"),
        ("approve", "done", "approved"),
    ]
    assert ours.events.get(action="return").note == "缺少照片"
    audited = AuditEvent.objects.filter(object_type="liaison.taskcopy", object_id=str(ours.pk))
    assert audited.count() == 6
    assert AuditEvent.objects.filter(object_type="liaison.task", action="create").count() == 1
    theirs.refresh_from_db()
    assert theirs.state == TaskCopy.State.ISSUED  # the other area's copy is its own


def test_states_move_only_in_their_order(areas, street_user, community_user):
    copy = copy_of(send(street_user, areas[QIAODONG]), areas[QIAODONG])
    with pytest.raises(ValidationError, match="只有已接收的任务才能开始办理"):
        services.taskcopy_start(actor=community_user, copy=copy)
    with pytest.raises(ValidationError, match="只有办理中的任务才能报告完成"):
        services.taskcopy_report(actor=community_user, copy=copy, report="完成")
    with pytest.raises(ValidationError, match="只有已报告完成的任务才能审核通过"):
        services.taskcopy_approve(actor=street_user, copy=copy)
    with pytest.raises(ValidationError, match="只有已报告完成的任务才能退回"):
        services.taskcopy_return(actor=street_user, copy=copy, reason="重做")
    services.taskcopy_receive(actor=community_user, copy=copy)
    with pytest.raises(ValidationError, match="只有下发的任务才能接收"):
        services.taskcopy_receive(actor=community_user, copy=copy)
    services.taskcopy_start(actor=community_user, copy=copy)
    with pytest.raises(ValidationError) as refused:
        services.taskcopy_report(actor=community_user, copy=copy, report="  ")
    assert "report" in refused.value.error_dict
    services.taskcopy_report(actor=community_user, copy=copy, report="完成")
    with pytest.raises(ValidationError) as refused:
        services.taskcopy_return(actor=street_user, copy=copy, reason="")
    assert "reason" in refused.value.error_dict


def test_only_the_receiving_area_answers_and_only_the_sender_reviews(
    areas, street_user, community_user, neighbour_user, district_user
):
    copy = copy_of(send(street_user, areas[QIAODONG]), areas[QIAODONG])
    for outsider in (neighbour_user, street_user, district_user):
        with pytest.raises(PermissionDenied):
            services.taskcopy_receive(actor=outsider, copy=copy)
    services.taskcopy_receive(actor=community_user, copy=copy)
    services.taskcopy_start(actor=community_user, copy=copy)
    services.taskcopy_report(actor=community_user, copy=copy, report="完成")
    # The district above the sending street did not send it: the street reviews.
    for outsider in (community_user, district_user):
        with pytest.raises(PermissionDenied):
            services.taskcopy_approve(actor=outsider, copy=copy)


def test_a_task_goes_only_to_current_areas_within_the_senders(
    areas, street_user, district_user, community_user, admin_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError, match="府东一社区"):
        send(street_user, areas[QIAODONG], areas[FUDONG])  # another street's community
    with pytest.raises(ValidationError):
        send(street_user, areas["140105001001"])  # another district's
    with pytest.raises(ValidationError):
        send(street_user, areas[LIUXIANG])  # itself
    with pytest.raises(ValidationError):
        send(street_user, areas["140106001001001"])  # a grid
    with pytest.raises(ValidationError):
        send(street_user)  # nobody
    retired = Area.objects.create(
        code="140106001009", name="已撤销社区", level="community", parent=areas[LIUXIANG],
        retired_at=timezone.now(),
    )  # fmt: skip
    with pytest.raises(ValidationError):
        send(street_user, retired)
    with pytest.raises(ValidationError):
        send(street_user, areas[QIAODONG], uploads=[SimpleUploadedFile("a.pdf", EXE)])
    assert not Task.objects.exists()
    # The district sends to streets and communities alike; communities and the
    # administrator (no area to send from) send nothing.
    task = send(district_user, areas[LIUXIANG], areas[FUDONG])
    assert task.copies.count() == 2 and task.area == areas["140106"]
    for nobody in (community_user, admin_user):
        with pytest.raises(PermissionDenied):
            send(nobody, areas[QIAODONG])


def test_a_report_links_only_records_of_its_area_the_reporter_sees(
    areas, street_user, community_user, neighbour_user
):
    copy = copy_of(send(street_user, areas[QIAODONG]), areas[QIAODONG])
    services.taskcopy_receive(actor=community_user, copy=copy)
    services.taskcopy_start(actor=community_user, copy=copy)
    neighbours_visit = visit_in(neighbour_user, areas[WUYIER])
    with pytest.raises(ValidationError) as refused:
        services.taskcopy_report(
            actor=community_user, copy=copy, report="完成", visits=[neighbours_visit]
        )
    assert "visits" in refused.value.error_dict
    # A joint activity of the street is visible to the community, but not its own work.
    joint = activity_in(street_user, areas[LIUXIANG], title="街道联谊会")
    with pytest.raises(ValidationError) as refused:
        services.taskcopy_report(actor=community_user, copy=copy, report="完成", activities=[joint])
    assert "activities" in refused.value.error_dict
    copy.refresh_from_db()
    assert copy.state == TaskCopy.State.IN_PROGRESS and not copy.visits.exists()
    own_visit = visit_in(community_user, areas[QIAODONG])
    services.taskcopy_report(actor=community_user, copy=copy, report="完成", visits=[own_visit])
    assert list(copy.visits.all()) == [own_visit]


def test_overdue_copies_are_those_open_past_the_deadline(areas, street_user, community_user):
    today = timezone.localdate()
    task = send(street_user, areas[QIAODONG], areas[WUYIER])
    Task.objects.filter(pk=task.pk).update(deadline=today - datetime.timedelta(days=2))
    ours = copy_of(task, areas[QIAODONG])
    services.taskcopy_receive(actor=community_user, copy=ours)
    services.taskcopy_start(actor=community_user, copy=ours)
    services.taskcopy_report(actor=community_user, copy=ours, report="完成")
    overdue = TaskCopy.objects.overdue(today)
    assert list(overdue) == [copy_of(task, areas[WUYIER])]  # done is not overdue
    assert copy_of(task, areas[WUYIER]).days_left(today) == -2
    assert not TaskCopy.objects.overdue(today - datetime.timedelta(days=3)).exists()


def test_what_each_user_sees(
    areas, community_user, neighbour_user, street_user, district_user, other_district_user,
    admin_user,
):  # fmt: skip
    by_street = send(street_user, areas[QIAODONG], areas[WUYIER], title="街道任务")
    by_district = send(district_user, areas[LIUXIANG], areas[FUDONG], title="区任务")

    def seen(user):
        tasks = set(Task.objects.visible_to(user).values_list("title", flat=True))
        copies = set(TaskCopy.objects.visible_to(user).values_list("task__title", "area__name"))
        return tasks, copies

    assert seen(community_user) == ({"街道任务"}, {("街道任务", "桥东一社区")})
    assert seen(neighbour_user) == ({"街道任务"}, {("街道任务", "五一二社区")})
    assert seen(street_user) == (
        {"街道任务", "区任务"},
        {("街道任务", "桥东一社区"), ("街道任务", "五一二社区"), ("区任务", "柳巷街道")},
    )
    assert seen(district_user)[1] == {
        ("街道任务", "桥东一社区"), ("街道任务", "五一二社区"), ("区任务", "柳巷街道"),
        ("区任务", "府东一社区"),
    }  # fmt: skip
    assert seen(other_district_user) == (set(), set())
    assert seen(admin_user)[0] == {"街道任务", "区任务"}
    assert by_street.area == areas[LIUXIANG] and by_district.area == areas["140106"]


def test_waiting_for_lists_what_each_user_has_to_do(
    areas, community_user, neighbour_user, street_user, district_user
):
    task = send(street_user, areas[QIAODONG], areas[WUYIER])
    to_street = send(district_user, areas[LIUXIANG])
    ours = copy_of(task, areas[QIAODONG])
    assert list(TaskCopy.objects.waiting_for(community_user)) == [ours]
    assert list(TaskCopy.objects.waiting_for(street_user)) == [to_street.copies.get()]
    services.taskcopy_receive(actor=community_user, copy=ours)
    services.taskcopy_start(actor=community_user, copy=ours)
    assert list(TaskCopy.objects.waiting_for(community_user)) == [ours]
    services.taskcopy_report(actor=community_user, copy=ours, report="完成")
    assert not TaskCopy.objects.waiting_for(community_user).exists()
    # Done: now the sending street's to review, not the district's.
    assert set(TaskCopy.objects.waiting_for(street_user)) == {ours, to_street.copies.get()}
    assert not TaskCopy.objects.waiting_for(district_user).exists()
    services.taskcopy_approve(actor=street_user, copy=ours)
    assert list(TaskCopy.objects.waiting_for(street_user)) == [to_street.copies.get()]


def test_a_merged_communitys_copies_move_and_both_are_kept(
    areas, street_user, community_user, admin_user
):
    both = send(street_user, areas[QIAODONG], areas[WUYIER], title="两社区都收到")
    only_ours = send(street_user, areas[QIAODONG], title="只有桥东一")
    ours = copy_of(both, areas[QIAODONG])
    services.taskcopy_receive(actor=community_user, copy=ours)
    assert services.area_tasks_count(areas[QIAODONG]) == 2
    area_merge(actor=admin_user, source=areas[QIAODONG], target=areas[WUYIER])
    # The target's own copy and the merged one's, each with its own state and history.
    copies = TaskCopy.objects.filter(task=both).order_by("id")
    assert [(c.area.code, c.merged_from and c.merged_from.code, c.state) for c in copies] == [
        (WUYIER, QIAODONG, "received"),
        (WUYIER, None, "issued"),
    ]
    assert copies[0].events.last().action == "merge"
    moved = only_ours.copies.get()
    assert moved.area == areas[WUYIER] and moved.merged_from == areas[QIAODONG]
    assert services.area_tasks_count(areas[QIAODONG]) == 0


def test_a_deadline_already_past_is_refused(areas, street_user):
    with pytest.raises(ValidationError) as refused:
        send(street_user, areas[QIAODONG], deadline=timezone.localdate() - datetime.timedelta(1))
    assert "deadline" in refused.value.error_dict and not Task.objects.exists()


def test_a_report_after_a_return_says_which_records_did_it(areas, street_user, community_user):
    copy = copy_of(send(street_user, areas[QIAODONG]), areas[QIAODONG])
    services.taskcopy_receive(actor=community_user, copy=copy)
    services.taskcopy_start(actor=community_user, copy=copy)
    first = activity_in(community_user, areas[QIAODONG], title="第一次")
    second = activity_in(community_user, areas[QIAODONG], title="第二次")
    services.taskcopy_report(actor=community_user, copy=copy, report="完成", activities=[first])
    services.taskcopy_return(actor=street_user, copy=copy, reason="活动不对")
    services.taskcopy_report(actor=community_user, copy=copy, report="改正", activities=[second])
    assert list(copy.activities.all()) == [second]
