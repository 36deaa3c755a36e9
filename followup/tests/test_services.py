"""The steps of a rectification and the 示范社区's record: each allowed only to its level, in
its state, once; sent back and returned go back to the community; overdue; reopening."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from assessment import services as assessment_services
from assessment.models import Result
from followup import services
from followup.models import ModelCommunity, Rectification
from tongzhan.models import AuditEvent

from .conftest import evidence, hold_activity, published_period

pytestmark = pytest.mark.django_db

State = Rectification.State


def notify(period, actor, days=30):
    return services.rectifications_notify(
        actor=actor, period=period, notice="整改台账不全的问题",
        deadline=timezone.localdate() + datetime.timedelta(days=days),
    )  # fmt: skip


@pytest.fixture
def rectification(period, district_user, areas):
    notify(period, district_user)
    return Rectification.objects.get(community=areas["140106001001"])


def test_notices_go_to_every_community_to_rectify_and_only_once(period, district_user, areas):
    made = notify(period, district_user)
    failing = Result.objects.filter(period=period, grade=Result.Grade.FAIL)
    assert {r.community for r in made} == {result.community for result in failing}
    assert areas["140106001002"] not in {r.community for r in made}  # the model community
    assert areas["140106001001"] in {r.community for r in made}
    with pytest.raises(ValidationError, match="都已收到整改通知"):
        notify(period, district_user)
    assert Rectification.objects.count() == len(made)
    assert AuditEvent.objects.filter(
        object_type="assessment.period", detail__has_key="rectifications"
    ).exists()


def test_only_the_district_of_the_period_orders_and_only_once_published(
    areas, district_user, other_district_user, street_user, community_user, admin_user
):
    unpublished = published_period(areas, district_user, publish=False)
    with pytest.raises(ValidationError, match="排名发布后"):
        notify(unpublished, district_user)
    period = published_period(areas, district_user, year=2024)
    for actor in (other_district_user, street_user, community_user):
        with pytest.raises(PermissionDenied):
            notify(period, actor)
    with pytest.raises(ValidationError, match="不能早于今天"):
        notify(period, district_user, days=-1)
    assert notify(period, admin_user)  # an administrator of every area


def test_the_whole_way_with_a_return_by_each_level(
    rectification, community_user, street_user, district_user
):
    with pytest.raises(ValidationError, match="佐证材料"):
        services.rectification_report(
            actor=community_user, rectification=rectification, report="已整改"
        )
    services.rectification_report(
        actor=community_user, rectification=rectification, report="已补齐台账",
        uploads=[evidence()],
    )  # fmt: skip
    rectification.refresh_from_db()
    assert rectification.state == State.REPORTED and rectification.files.count() == 1
    services.rectification_send_back(
        actor=street_user, rectification=rectification, reason="缺少照片"
    )
    rectification.refresh_from_db()
    assert rectification.state == State.RECTIFYING and rectification.is_returned
    # Reported again: the evidence sent before still counts.
    services.rectification_report(
        actor=community_user, rectification=rectification, report="已补拍照片"
    )
    services.rectification_pass(actor=street_user, rectification=rectification)
    services.rectification_return(
        actor=district_user, rectification=rectification, reason="制度未上墙"
    )
    rectification.refresh_from_db()
    assert rectification.state == State.RECTIFYING
    assert rectification.returned_reason == "制度未上墙"
    services.rectification_report(
        actor=community_user, rectification=rectification, report="制度已上墙",
        uploads=[evidence("上墙.pdf")],
    )  # fmt: skip
    services.rectification_pass(actor=street_user, rectification=rectification)
    services.rectification_accept(actor=district_user, rectification=rectification)
    rectification.refresh_from_db()
    assert rectification.state == State.ACCEPTED
    assert rectification.accepted_by == district_user
    assert [event.action for event in rectification.events.all()] == [
        "notify", "report", "send_back", "report", "pass", "return", "report", "pass", "accept",
    ]  # fmt: skip
    assert (
        AuditEvent.objects.filter(
            object_type="followup.rectification", object_id=str(rectification.pk)
        ).count()
        == 8
    )


def test_each_step_belongs_to_its_level(
    rectification, community_user, neighbour_user, street_user, other_street_user,
    district_user, other_district_user, admin_user,
):  # fmt: skip
    for actor in (neighbour_user, street_user, district_user, admin_user):
        with pytest.raises(PermissionDenied):
            services.rectification_report(
                actor=actor, rectification=rectification, report="x", uploads=[evidence()]
            )
    services.rectification_report(
        actor=community_user, rectification=rectification, report="x", uploads=[evidence()]
    )
    for actor in (community_user, other_street_user, district_user, admin_user):
        with pytest.raises(PermissionDenied):
            services.rectification_pass(actor=actor, rectification=rectification)
        with pytest.raises(PermissionDenied):
            services.rectification_send_back(actor=actor, rectification=rectification, reason="r")
    # The district accepts only what the street passed on.
    with pytest.raises(ValidationError, match="街道审核通过"):
        services.rectification_accept(actor=district_user, rectification=rectification)
    services.rectification_pass(actor=street_user, rectification=rectification)
    for actor in (community_user, street_user, other_district_user):
        with pytest.raises(PermissionDenied):
            services.rectification_accept(actor=actor, rectification=rectification)
        with pytest.raises(PermissionDenied):
            services.rectification_return(actor=actor, rectification=rectification, reason="r")


def test_a_step_taken_twice_is_taken_once(rectification, community_user, street_user):
    services.rectification_report(
        actor=community_user, rectification=rectification, report="x", uploads=[evidence()]
    )
    stale = Rectification.objects.get(pk=rectification.pk)
    services.rectification_pass(actor=street_user, rectification=rectification)
    with pytest.raises(ValidationError, match="只有已报告的整改才能审核"):
        services.rectification_pass(actor=street_user, rectification=stale)
    assert rectification.events.filter(action="pass").count() == 1


def test_a_reason_is_needed_to_send_back(rectification, community_user, street_user):
    services.rectification_report(
        actor=community_user, rectification=rectification, report="x", uploads=[evidence()]
    )
    with pytest.raises(ValidationError, match="退回原因"):
        services.rectification_send_back(actor=street_user, rectification=rectification, reason=" ")


def test_overdue_is_a_passed_deadline_not_accepted(rectification, district_user):
    today = timezone.localdate()
    later = today + datetime.timedelta(days=31)
    assert not Rectification.objects.with_overdue(today).get(pk=rectification.pk).overdue
    assert Rectification.objects.with_overdue(later).get(pk=rectification.pk).overdue
    Rectification.objects.filter(pk=rectification.pk).update(state=State.ACCEPTED)
    assert not Rectification.objects.with_overdue(later).get(pk=rectification.pk).overdue


def test_the_district_changes_the_notice_and_deadline_until_it_accepts(
    rectification, district_user, community_user
):
    new = timezone.localdate() + datetime.timedelta(days=90)
    services.rectification_update(
        actor=district_user, rectification=rectification, notice="新的通知", deadline=new
    )
    rectification.refresh_from_db()
    assert (rectification.notice, rectification.deadline) == ("新的通知", new)
    assert rectification.events.last().action == "edit"
    with pytest.raises(PermissionDenied):
        services.rectification_update(
            actor=community_user, rectification=rectification, notice="x", deadline=new
        )
    with pytest.raises(ValidationError, match="不能早于今天"):
        services.rectification_update(
            actor=district_user, rectification=rectification, notice="新的通知",
            deadline=timezone.localdate() - datetime.timedelta(days=1),
        )  # fmt: skip


def test_a_published_period_with_rectifications_is_not_reopened(
    rectification, period, district_user
):
    with pytest.raises(ValidationError):
        assessment_services.period_reopen(actor=district_user, period=period)
    period.refresh_from_db()
    assert period.published
    assert Rectification.objects.filter(pk=rectification.pk, result__period=period).exists()


def test_a_result_under_a_rectification_is_never_discarded(rectification):
    """Whatever reopens a period one day, the result a rectification stands on stays."""
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        Result.objects.filter(pk=rectification.result_id).delete()


# -- 示范社区 ------------------------------------------------------------------------------------


def test_the_district_records_a_model_communitys_reward_and_activity(
    period, areas, district_user, neighbour_user
):
    result = Result.objects.get(period=period, outcome=Result.Outcome.MODEL)
    assert result.community == areas["140106001002"]
    sharing = hold_activity(neighbour_user, areas["140106001002"], title="经验交流")
    record = services.model_community_set(
        actor=district_user, result=result, reward=D("5000.00"), activity=sharing
    )
    assert (record.reward, record.activity) == (D("5000.00"), sharing)
    assert record.changes.count() == 1
    services.model_community_set(
        actor=district_user, result=result, reward=D("5000.00"), activity=sharing
    )
    assert record.changes.count() == 1  # nothing changed, nothing written
    assert AuditEvent.objects.filter(object_type="followup.modelcommunity").count() == 1


def test_a_model_communitys_activity_is_its_own_and_in_scope(
    period, areas, district_user, other_district_user, community_user, neighbour_user
):
    result = Result.objects.get(period=period, outcome=Result.Outcome.MODEL)
    far = areas["140105001001"]
    far_activity = hold_activity(other_district_user, far, title="别区的活动")
    other_community = hold_activity(community_user, areas["140106001001"], title="桥东一的活动")
    for activity in (far_activity, other_community):
        with pytest.raises(ValidationError, match="本社区的活动"):
            services.model_community_set(
                actor=district_user, result=result, reward=None, activity=activity
            )
    for actor in (other_district_user, neighbour_user):
        with pytest.raises(PermissionDenied):
            services.model_community_set(actor=actor, result=result, reward=D(1), activity=None)
    with pytest.raises(ValidationError, match="负数"):
        services.model_community_set(
            actor=district_user, result=result, reward=D(-1), activity=None
        )
    failing = Result.objects.filter(period=period, grade=Result.Grade.FAIL).first()
    with pytest.raises(ValidationError, match="只有示范社区"):
        services.model_community_set(
            actor=district_user, result=failing, reward=D(1), activity=None
        )
    assert not ModelCommunity.objects.exists()


def test_a_rectification_underway_goes_with_a_merged_community(
    rectification, areas, admin_user, neighbour_user
):
    from tongzhan.services import area_merge

    area_merge(actor=admin_user, source=areas["140106001001"], target=areas["140106001002"])
    rectification.refresh_from_db()
    assert rectification.community == areas["140106001002"]
    assert rectification.result.community == areas["140106001001"]  # the result stays
    assert rectification.events.last().action == "merge"
    services.rectification_report(
        actor=neighbour_user, rectification=rectification, report="合并后整改",
        uploads=[evidence()],
    )  # fmt: skip
    rectification.refresh_from_db()
    assert rectification.state == State.REPORTED
