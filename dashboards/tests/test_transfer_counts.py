"""A member's transfer moves her open needs to the community keeping her, while the work the
old community did stays counted there, once."""

import pytest
from django.utils import timezone

from activities import services
from activities.models import Need
from dashboards.stats import Dashboard
from members.services import transfer_request

pytestmark = pytest.mark.django_db


def test_resolved_needs_stay_with_the_community_that_resolved_them(
    community_user, neighbour_user, street_user, district_user, member, areas
):
    today = timezone.localdate()
    resolved, still_open = (
        services.need_create(
            actor=community_user, member=member, data={"kind": "legal", "description": text}
        )
        for text in ("劳动纠纷", "子女入学")
    )
    services.need_set_status(
        actor=community_user,
        need=resolved,
        status=Need.Status.RESOLVED,
        resolution="调解结案",
        closed_on=today,
    )

    def counts(user):
        return Dashboard(user, today).needs

    before = counts(community_user)
    assert before == {"open": 1, "overdue": 0, "resolved": 1}
    assert counts(neighbour_user) == {"open": 0, "overdue": 0, "resolved": 0}
    street = counts(street_user)

    transfer_request(
        actor=district_user, member=member, to_community=areas["140106001002"], reason="搬家"
    )
    assert counts(community_user) == {"open": 0, "overdue": 0, "resolved": 1}
    assert counts(neighbour_user) == {"open": 1, "overdue": 0, "resolved": 0}
    assert counts(street_user) == street  # moved within the street: nothing counted twice
    rows = {row.label: row.extra for row in Dashboard(street_user, today).by_area}
    assert rows["桥东一社区"]["needs_open"] == 0 and rows["五一二社区"]["needs_open"] == 1
    assert still_open.pk in Need.objects.visible_to(neighbour_user).values_list("pk", flat=True)


def test_the_needs_report_counts_them_as_the_dashboard_does(
    community_user, street_user, district_user, member, areas
):
    from dashboards.reports import needs_by_kind

    today = timezone.localdate()
    resolved, _still_open = (
        services.need_create(
            actor=community_user, member=member, data={"kind": "legal", "description": text}
        )
        for text in ("劳动纠纷", "子女入学")
    )
    services.need_set_status(
        actor=community_user,
        need=resolved,
        status=Need.Status.RESOLVED,
        resolution="调解结案",
        closed_on=today,
    )
    transfer_request(
        actor=district_user, member=member, to_community=areas["140106001002"], reason="搬家"
    )
    table = needs_by_kind(Dashboard(street_user, today), today, today)
    statuses = [value for value, _label in Need.Status.choices]
    rows = {label: values[: len(statuses)] for label, values in table.rows}
    by_status = {label: dict(zip(statuses, values, strict=True)) for label, values in rows.items()}
    assert by_status["桥东一社区"][Need.Status.RESOLVED] == 1
    assert by_status["桥东一社区"][Need.Status.OPEN] == 0
    assert by_status["五一二社区"][Need.Status.OPEN] == 1
    assert by_status["五一二社区"][Need.Status.RESOLVED] == 0
