"""After a transfer the old community keeps the count of its work and nothing more, and a
round of evaluation marks the representatives who left it (hole 5); who may run the
assessment is decided by permissions, not by role names."""

import datetime
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from activities import services as activity_services
from activities.models import Need, Visit
from assessment import services
from assessment.models import Evaluation, EvaluationItem, EvaluationTemplate, Indicator
from assessment.standings import measure, round_results
from members.models import Member
from members.services import member_set_status, transfer_request
from members.tests.factories import MemberFactory
from tongzhan.models import User

from .conftest import populate, talk_with_the_flagged

pytestmark = pytest.mark.django_db


def measured(period, district_user, metric):
    return services.indicator_add(
        actor=district_user,
        period=period,
        data={"name": metric, "kind": "measured", "metric": metric, "weight": D(10),
              "rule": "fixed", "base": D(1)},
    )  # fmt: skip


def test_the_old_communitys_counts_of_its_work_do_not_move_with_the_member(
    areas, period, community_user, district_user
):
    qiaodong, wuyier = areas["140106001001"], areas["140106001002"]
    members = populate(qiaodong, 4)
    today = datetime.date.today()
    for member in members[:2]:
        visit = activity_services.visit_create(
            actor=community_user,
            data={"community": qiaodong, "date": today, "staff": "王", "way": "home"},
            members=[member],
            need={"kind": "legal", "description": "咨询"},
        )
    need = Need.objects.get(visit=visit)
    activity_services.need_set_status(
        actor=community_user, need=need, status=Need.Status.RESOLVED, resolution="已办",
        closed_on=today,
    )  # fmt: skip
    indicators = [measured(period, district_user, metric) for metric in ("visited_share",
                  "needs_resolved")]  # fmt: skip
    ids = [qiaodong.pk, wuyier.pk]
    visits_in_period = Visit.objects.filter(community=qiaodong, date=today).count()
    before = measure(period, indicators, ids)
    assert [before[indicator.pk, qiaodong.pk] for indicator in indicators] == [D("50.0"), 1]

    transfer_request(actor=district_user, member=members[1], to_community=wuyier, reason="搬家")

    after = measure(period, indicators, ids)
    assert Visit.objects.filter(community=qiaodong, date=today).count() == visits_in_period == 2
    # Two members visited, one need resolved: still the old community's work (its share,
    # before the period opens, is of the three it keeps now) ...
    assert [after[indicator.pk, qiaodong.pk] for indicator in indicators] == [D("66.7"), 1]
    # ... and not counted a second time where she lives now.
    assert [after[indicator.pk, wuyier.pk] for indicator in indicators] == [0, 0]
    # The old community can no longer open what it recorded about her.
    other_need = Need.objects.get(member=members[1])
    visit = Visit.objects.get(members=members[1])
    assert not Need.objects.visible_to(community_user).filter(pk=other_need.pk).exists()
    assert not Visit.objects.visible_to(community_user).filter(pk=visit.pk).exists()


# -- Representatives who left a round ------------------------------------------------------------


@pytest.fixture
def evaluation_round(areas, district_user):
    for index, name in enumerate(["甲", "乙", "丙", "丁", "戊"]):
        community = areas["140106001001" if index % 2 else "140106001002"]
        MemberFactory(name=name, community=community, is_representative=True)
    return services.round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "2026年综合评价",
              "template": EvaluationTemplate.objects.get(is_example=True), "cut_share": 20},
    )  # fmt: skip


def superior_scores(evaluation_round, district_user, percent):
    """Every source's sheet alike (the district enters them all), so the round can be
    confirmed and ranks by these shares."""
    items = EvaluationItem.objects.filter(
        category__template=evaluation_round.template, is_veto=False
    )
    for evaluation in evaluation_round.evaluations.select_related("member"):
        for source in ("superior", "self", "public"):
            services.evaluation_score(
                actor=district_user, evaluation=evaluation, source=source,
                scores={item: item.max_score * percent[evaluation.member.name] / 100
                        for item in items},
            )  # fmt: skip


def test_a_representative_who_left_is_marked_and_keeps_her_record_on_confirmation(
    client, evaluation_round, areas, district_user
):
    superior_scores(
        evaluation_round, district_user, {"甲": 95, "乙": 90, "丙": 80, "丁": 70, "戊": 60}
    )
    moved, withdrawn = Member.objects.get(name="戊"), Member.objects.get(name="丁")
    transfer_request(
        actor=district_user, member=moved, to_community=areas["140106002001"], reason="搬家"
    )
    member_set_status(
        actor=district_user, member=withdrawn, status=Member.Status.WITHDRAWN,
        date=datetime.date.today(), reason="本人申请",
    )  # fmt: skip
    rows = {row.evaluation.member.name: row for row in round_results(evaluation_round)}
    assert rows["戊"].left == "moved_out" and rows["丁"].left == "withdrawn"
    assert not rows["戊"].fails and not rows["丁"].fails
    # Ranked and cut among the three still in the round: 20 % of three is the lowest one.
    assert [(name, row.rank) for name, row in rows.items() if not row.left] == [
        ("甲", 1), ("乙", 2), ("丙", 3)
    ]  # fmt: skip
    assert [name for name, row in rows.items() if row.flagged] == ["丙"]
    client.force_login(district_user)
    page = client.get(reverse("assessment:round", args=[evaluation_round.pk])).content.decode()
    assert "已迁出" in page and "已退出" in page
    assert not services.may_enter(district_user, rows["戊"].evaluation, "superior")

    talk_with_the_flagged(evaluation_round, district_user)
    removed = services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    assert [evaluation.member.name for evaluation in removed] == ["丙"]
    moved.refresh_from_db()
    assert moved.is_representative  # her new street decides about her, not this round
    left = dict(evaluation_round.evaluations.values_list("member__name", "left"))
    assert left == {"甲": "", "乙": "", "丙": "", "丁": "withdrawn", "戊": "moved_out"}
    # Once confirmed the marks are the round's record, whatever happens to her later.
    transfer_request(
        actor=district_user, member=moved, to_community=areas["140106001001"], reason="回迁"
    )
    evaluation_round.refresh_from_db()
    rows = {row.evaluation.member.name: row for row in round_results(evaluation_round)}
    assert rows["戊"].left == "moved_out"


# -- Permissions, not role names ------------------------------------------------------------------


def strip(codename: str) -> User:
    """The district officer's group without one permission; the officer as loaded afresh."""
    group = Group.objects.get(name="区委统战部")
    group.permissions.remove(Permission.objects.get(codename=codename))
    return User.objects.get(username="erin")


def test_a_district_officer_without_the_permission_to_run_periods_is_refused(
    client, period, indicators, district_user
):
    officer = strip("manage_period")
    with pytest.raises(PermissionDenied):
        services.period_open(actor=officer, period=period)
    client.force_login(officer)
    assert client.post(reverse("assessment:open", args=[period.pk])).status_code == 403
    assert not services.manages_district(officer, period.district)


def test_a_district_officer_without_the_permission_to_score_district_items_is_refused(
    areas, period, indicators, district_user
):
    services.period_open(actor=district_user, period=period)
    bonus = indicators["innovation"]
    assert bonus.scored_by == Indicator.ScoredBy.DISTRICT
    assert services.may_score(district_user, bonus, areas["140106001001"])
    officer = strip("score_district_item")
    with pytest.raises(PermissionDenied):
        services.score_set(
            actor=officer, indicator=bonus, community=areas["140106001001"], points=D(1),
            evidence="台账",
        )  # fmt: skip


def test_a_district_officer_without_the_review_and_confirm_permissions_is_refused(
    evaluation_round, district_user
):
    evaluation = evaluation_round.evaluations.first()
    assert services.may_enter(district_user, evaluation, Evaluation.Source.SUPERIOR)
    officer = strip("review_evaluation")
    assert not services.may_enter(officer, evaluation, Evaluation.Source.SUPERIOR)
    assert services.may_enter(officer, evaluation, Evaluation.Source.PUBLIC)
    officer = strip("confirm_evaluationround")
    with pytest.raises(PermissionDenied):
        services.round_confirm(actor=officer, evaluation_round=evaluation_round)


def test_the_visited_share_is_of_the_members_its_target_counted(
    areas, period, community_user, district_user
):
    """Once the period is open, the share visited is of the members counted when its
    targets were set (`Target.members`): a member leaving does not raise it."""
    qiaodong = areas["140106001001"]
    members = populate(qiaodong, 4)
    share = services.indicator_add(
        actor=district_user, period=period,
        data={"name": "走访覆盖率", "kind": "measured", "metric": "visited_share",
              "weight": D(100), "rule": "fixed", "base": D(50)},
    )  # fmt: skip
    services.period_open(actor=district_user, period=period)
    today = datetime.date.today()
    activity_services.visit_create(
        actor=community_user,
        data={"community": qiaodong, "date": today, "staff": "王", "way": "home"},
        members=members[:2],
    )
    assert share.targets.get(community=qiaodong).members == 4
    assert measure(period, [share], [qiaodong.pk])[share.pk, qiaodong.pk] == D("50.0")
    member_set_status(
        actor=district_user, member=members[3], status=Member.Status.MOVED_OUT, date=today,
        reason="迁往外地",
    )  # fmt: skip
    assert measure(period, [share], [qiaodong.pk])[share.pk, qiaodong.pk] == D("50.0")
    # Newcomers visited after the targets were set never make it more than all of them.
    for member in populate(qiaodong, 4):
        activity_services.visit_create(
            actor=community_user,
            data={"community": qiaodong, "date": today, "staff": "王", "way": "home"},
            members=[member],
        )
    assert measure(period, [share], [qiaodong.pk])[share.pk, qiaodong.pk] == D(100)
