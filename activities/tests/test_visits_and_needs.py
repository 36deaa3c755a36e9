"""Visits and needs: scope, the status flow of a need, history."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from activities import services
from activities.models import Need, Visit

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 2)


def visit(actor, community, members, **fields):
    data = {"community": community, "date": DAY, "staff": "王丽", "way": Visit.Way.HOME}
    return services.visit_create(actor=actor, data={**data, **fields}, members=members)


def test_a_visit_raises_a_need_that_is_followed_to_resolution(community_user, member, areas):
    visited = visit(community_user, areas["140106001001"], [member], situation="孩子明年上小学")
    assert list(member.visits.all()) == [visited]
    need = services.need_create(
        actor=community_user,
        member=member,
        visit=visited,
        data={"kind": Need.Kind.SCHOOLING, "description": "子女入学咨询", "handler": "王丽"},
    )
    assert need.status == Need.Status.OPEN and need.community == member.community
    services.need_set_status(actor=community_user, need=need, status=Need.Status.IN_PROGRESS)
    services.need_set_status(
        actor=community_user,
        need=need,
        status=Need.Status.RESOLVED,
        resolution="协调学区，已入学",
        closed_on=DAY,
        satisfaction=Need.Satisfaction.SATISFIED,
    )
    need.refresh_from_db()
    assert need.status == Need.Status.RESOLVED and need.closed_on == DAY
    statuses = [
        {row["field"]: row["new"] for row in change.changes}.get("status")
        for change in need.changes.order_by("at", "id")
    ]
    assert statuses == ["待办", "办理中", "已办结"]


def test_closing_needs_a_resolution_and_a_date(community_user, member):
    need = services.need_create(
        actor=community_user, member=member, data={"kind": "legal", "description": "劳动纠纷"}
    )
    with pytest.raises(ValidationError) as error:
        services.need_set_status(actor=community_user, need=need, status=Need.Status.IMPOSSIBLE)
    assert {"resolution", "closed_on"} <= set(error.value.message_dict)


def test_a_closed_need_does_not_reopen(community_user, member):
    need = services.need_create(
        actor=community_user,
        member=member,
        data={"kind": "other", "description": "咨询", "raised_on": DAY},
    )
    services.need_set_status(
        actor=community_user, need=need, status="resolved", resolution="已答复", closed_on=DAY
    )
    with pytest.raises(ValidationError):
        services.need_set_status(actor=community_user, need=need, status="in_progress")


def test_a_visit_takes_members_of_its_community_in_scope_only(
    community_user, member, neighbour_member, areas
):
    with pytest.raises(ValidationError):
        visit(community_user, areas["140106001001"], [neighbour_member])
    with pytest.raises(ValidationError):
        visit(community_user, areas["140106001002"], [member])
    with pytest.raises(ValidationError):
        visit(community_user, areas["140106001001"], [])
    assert not Visit.objects.exists()


def test_needs_and_visits_are_scoped_like_members(
    community_user, neighbour_user, street_user, other_street_user, member, areas
):
    visited = visit(community_user, areas["140106001001"], [member])
    need = services.need_create(
        actor=community_user, member=member, data={"kind": "medical", "description": "就医"}
    )
    for model, record in ((Visit, visited), (Need, need)):
        assert not model.objects.visible_to(neighbour_user).filter(pk=record.pk).exists()
        assert model.objects.editable_by(street_user).filter(pk=record.pk).exists()
        assert not model.objects.visible_to(other_street_user).filter(pk=record.pk).exists()
    with pytest.raises(PermissionDenied):
        services.need_set_status(actor=neighbour_user, need=need, status="in_progress")
    with pytest.raises(PermissionDenied):
        services.need_create(
            actor=neighbour_user, member=member, data={"kind": "other", "description": "x"}
        )


def test_a_need_on_a_visit_must_come_from_someone_visited(community_user, member, areas):
    from members.tests.factories import MemberFactory

    other = MemberFactory(community=areas["140106001001"])
    visited = visit(community_user, areas["140106001001"], [member])
    with pytest.raises(ValidationError):
        services.need_create(
            actor=community_user,
            member=other,
            visit=visited,
            data={"kind": "other", "description": "x"},
        )


# -- What a need keeps of what was typed (issue 13) -------------------------------------------


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def test_each_status_change_keeps_its_note_in_the_history(community_user, member):
    need = services.need_create(
        actor=community_user,
        member=member,
        data={"kind": "schooling", "description": "子女入学", "raised_on": days_ago(10)},
    )
    services.need_set_status(
        actor=community_user, need=need, status="in_progress", resolution="已联系街道教育办"
    )
    services.need_set_status(
        actor=community_user,
        need=need,
        status="resolved",
        resolution="已办理入学",
        closed_on=days_ago(1),
    )
    notes = [change.note for change in need.changes.order_by("at", "id")]
    assert notes == ["", "已联系街道教育办", "已办理入学"]
    need.refresh_from_db()
    assert need.resolution == "已办理入学"


def test_a_need_s_dates_are_checked_against_each_other(community_user, member):
    def refused(**data):
        with pytest.raises(ValidationError) as error:
            services.need_create(
                actor=community_user,
                member=member,
                data={"kind": "legal", "description": "劳动纠纷", **data},
            )
        return error.value.message_dict

    raised = days_ago(10)
    assert refused(raised_on=raised, due_date=days_ago(11)) == {
        "due_date": [f"办理时限不能早于提出时间（{raised.isoformat()}）。"]
    }
    assert refused(raised_on=days_ago(-1)) == {"raised_on": ["提出时间不能晚于今天。"]}
    assert not Need.objects.exists()

    need = services.need_create(
        actor=community_user,
        member=member,
        data={"kind": "legal", "description": "劳动纠纷", "raised_on": raised},
    )
    for closed_on, message in (
        (days_ago(11), f"办结日期不能早于提出时间（{raised.isoformat()}）。"),
        (days_ago(-1), "办结日期不能晚于今天。"),
    ):
        with pytest.raises(ValidationError) as error:
            services.need_set_status(
                actor=community_user,
                need=need,
                status="resolved",
                resolution="调解结案",
                closed_on=closed_on,
            )
        assert error.value.message_dict == {"closed_on": [message]}
    with pytest.raises(ValidationError) as error:
        services.need_update(actor=community_user, need=need, data={"due_date": days_ago(12)})
    assert list(error.value.message_dict) == ["due_date"]
    need.refresh_from_db()
    assert need.status == "open" and need.changes.count() == 1
    # Closed on the day it was raised: accepted.
    services.need_set_status(
        actor=community_user, need=need, status="resolved", resolution="调解结案", closed_on=raised
    )


def test_a_need_gets_a_handler_and_a_due_date_by_default(community_user, member, settings):
    need = services.need_create(
        actor=community_user, member=member, data={"kind": "medical", "description": "就医"}
    )
    today = timezone.localdate()
    assert (need.raised_on, need.handler) == (today, "王丽")
    assert need.due_date == today + datetime.timedelta(days=30)
    settings.NEED_DUE_DAYS = 7
    given = services.need_create(
        actor=community_user,
        member=member,
        data={
            "kind": "medical",
            "description": "就医",
            "raised_on": days_ago(3),
            "handler": "李强",
        },
    )
    assert (given.handler, given.due_date) == ("李强", days_ago(3) + datetime.timedelta(days=7))


def test_a_visit_s_need_is_raised_on_the_visit_day_and_overdue_after_30_days(
    community_user, member, areas
):
    visited = services.visit_create(
        actor=community_user,
        data={"community": areas["140106001001"], "date": days_ago(31), "staff": "李强",
              "way": Visit.Way.HOME},
        members=[member],
        need={"kind": "hardship", "description": "家中漏水"},
    )  # fmt: skip
    need = Need.objects.get(visit=visited)
    assert (need.raised_on, need.handler, need.due_date) == (days_ago(31), "李强", days_ago(1))
    today = timezone.localdate()
    assert list(Need.objects.overdue(today)) == [need]
    assert Need.objects.with_overdue(today).get().overdue
    # The visit's date corrected: its need was raised on the new day, due 30 days after.
    services.visit_update(actor=community_user, visit=visited, data={"date": days_ago(5)})
    need.refresh_from_db()
    assert (need.raised_on, need.due_date) == (days_ago(5), days_ago(5) + datetime.timedelta(30))
    assert not Need.objects.overdue(today).exists()


def test_a_visit_in_the_future_is_refused(community_user, member, areas):
    with pytest.raises(ValidationError) as error:
        visit(community_user, areas["140106001001"], [member], date=days_ago(-1))
    assert error.value.message_dict == {"date": ["走访日期不能晚于今天。"]}
    visited = visit(community_user, areas["140106001001"], [member], date=days_ago(0))
    with pytest.raises(ValidationError) as error:
        services.visit_update(actor=community_user, visit=visited, data={"date": days_ago(-2)})
    assert list(error.value.message_dict) == ["date"]
