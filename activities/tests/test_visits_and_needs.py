"""Visits and needs: scope, the status flow of a need, history."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

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
