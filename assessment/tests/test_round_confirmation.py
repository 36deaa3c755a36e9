"""Confirming an evaluation round: refused while scores are missing, shown before it is done,
and taken back by the district within `EVALUATION_REOPEN_DAYS` (issue 13: a round confirmed
with one person scored removed 19 representatives nobody had scored)."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from assessment import services
from assessment.models import EvaluationItem, EvaluationRound, EvaluationTemplate
from members.models import Member, MemberChange
from members.services import transfer_request
from members.tests.factories import MemberFactory
from tongzhan.models import AuditEvent, User

from .conftest import talk_with_the_flagged

pytestmark = pytest.mark.django_db

NAMES = ["甲", "乙", "丙", "丁", "戊"]
SOURCES = ("superior", "self", "public")


@pytest.fixture
def evaluation_round(areas, district_user):
    for index, name in enumerate(NAMES):
        community = areas["140106001001" if index % 2 else "140106001002"]
        MemberFactory(name=name, community=community, is_representative=True)
    return services.round_create(
        actor=district_user,
        data={"area": areas["140106001"], "name": "2026年综合评价",
              "template": EvaluationTemplate.objects.get(is_example=True), "cut_share": 20},
    )  # fmt: skip


def score(evaluation_round, actor, name, share, sources=SOURCES, skip_items=0):
    """`name`'s sheets: every item at `share` per cent of its maximum (less the first
    `skip_items` items, left unscored)."""
    items = list(
        EvaluationItem.objects.filter(category__template=evaluation_round.template, is_veto=False)
    )[skip_items:]
    evaluation = evaluation_round.evaluations.get(member__name=name)
    for source in sources:
        services.evaluation_score(
            actor=actor, evaluation=evaluation, source=source,
            scores={item: item.max_score * share / 100 for item in items},
        )  # fmt: skip


def score_everyone(evaluation_round, actor):
    for name, share in zip(NAMES, [95, 90, 80, 70, 60], strict=True):
        score(evaluation_round, actor, name, share)


def representatives() -> set[str]:
    return set(Member.objects.filter(is_representative=True).values_list("name", flat=True))


# -- The service ------------------------------------------------------------------------------


def test_a_round_cannot_be_confirmed_while_anyone_lacks_a_sources_scores(
    evaluation_round, district_user
):
    score(evaluation_round, district_user, "甲", 95)
    score(evaluation_round, district_user, "乙", 90, sources=["superior"])
    with pytest.raises(ValidationError) as refused:
        services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    message = refused.value.messages[0]
    assert "4 名代表人士还缺少评分" in message
    assert "乙：自我评价、社会评价" in message
    assert "丙：上级评议、自我评价、社会评价" in message
    assert "甲：" not in message
    assert representatives() == set(NAMES)  # nobody removed
    assert not MemberChange.objects.filter(source__contains="末位淘汰").exists()
    evaluation_round.refresh_from_db()
    assert evaluation_round.state == EvaluationRound.State.OPEN


def test_a_sheet_with_an_item_left_empty_is_missing_too(evaluation_round, district_user):
    score_everyone(evaluation_round, district_user)
    score_evaluation = evaluation_round.evaluations.get(member__name="丁")
    score_evaluation.scores.filter(source="public").first().delete()
    outcome = services.round_outcome_preview(evaluation_round)
    assert [(m.row.evaluation.member.name, m.labels()) for m in outcome.missing] == [
        ("丁", ["社会评价"])
    ]
    with pytest.raises(ValidationError):
        services.round_confirm(actor=district_user, evaluation_round=evaluation_round)


def test_a_source_weighted_nought_and_a_representative_who_left_need_no_scores(
    areas, evaluation_round, district_user
):
    EvaluationRound.objects.filter(pk=evaluation_round.pk).update(
        superior_weight=70, self_weight=30, public_weight=0
    )
    evaluation_round.refresh_from_db()
    for name, share in zip(NAMES[:4], [95, 90, 80, 70], strict=True):
        score(evaluation_round, district_user, name, share, sources=["superior", "self"])
    gone = Member.objects.get(name="戊")  # never scored, and moved to another street
    transfer_request(
        actor=district_user, member=gone, to_community=areas["140106002001"], reason="搬家"
    )
    assert services.round_outcome_preview(evaluation_round).ready
    talk_with_the_flagged(evaluation_round, district_user)
    removed = services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    assert [evaluation.member.name for evaluation in removed] == ["丁"]  # 20 % of four


def test_the_round_is_confirmed_once_every_score_is_entered(evaluation_round, district_user):
    score_everyone(evaluation_round, district_user)
    veto = EvaluationItem.objects.get(category__template=evaluation_round.template, name="违法违纪")
    services.veto_mark(
        actor=district_user,
        evaluation=evaluation_round.evaluations.get(member__name="甲"),
        item=veto,
        note="被行政拘留",
    )
    outcome = services.round_outcome_preview(evaluation_round)
    assert [row.evaluation.member.name for row in outcome.vetoed] == ["甲"]
    assert [row.evaluation.member.name for row in outcome.lowest] == ["戊"]
    assert {row.evaluation.member.name for row in outcome.loses_flag} == {"甲", "戊"}
    talk_with_the_flagged(evaluation_round, district_user)
    removed = services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    assert {evaluation.member.name for evaluation in removed} == {"甲", "戊"}
    assert representatives() == {"乙", "丙", "丁"}
    assert (
        "末位淘汰（第 5 名，共 5 人）"
        in MemberChange.objects.filter(member__name="戊").latest("id").source
    )


def test_a_confirmation_whose_outcome_changed_since_it_was_shown_is_refused(
    evaluation_round, district_user
):
    score_everyone(evaluation_round, district_user)
    outcome = services.round_outcome_preview(evaluation_round)
    shown = [row.evaluation.member_id for row in outcome.loses_flag]
    score(evaluation_round, district_user, "丁", 50)  # 丁 now ranks last, not 戊
    with pytest.raises(ValidationError, match="评价结果已有变化"):
        services.round_confirm(
            actor=district_user, evaluation_round=evaluation_round, expected=shown
        )
    assert representatives() == set(NAMES)


@pytest.fixture
def confirmed(evaluation_round, district_user):
    score_everyone(evaluation_round, district_user)
    talk_with_the_flagged(evaluation_round, district_user)
    services.round_confirm(actor=district_user, evaluation_round=evaluation_round)
    evaluation_round.refresh_from_db()
    assert representatives() == {"甲", "乙", "丙", "丁"}
    return evaluation_round


def test_reopening_gives_the_flags_back_with_history_and_audit(confirmed, district_user):
    restored = services.round_reopen(actor=district_user, evaluation_round=confirmed)
    assert [evaluation.member.name for evaluation in restored] == ["戊"]
    assert representatives() == set(NAMES)
    confirmed.refresh_from_db()
    assert confirmed.state == EvaluationRound.State.OPEN and confirmed.confirmed_at is None
    assert not confirmed.evaluations.filter(removed=True).exists()
    history = list(
        MemberChange.objects.filter(member__name="戊")
        .order_by("id")
        .values_list("source", "changes")
    )
    assert "末位淘汰" in history[-2][0]
    assert history[-1] == (
        "2026年综合评价重新打开：已确认的评价结果撤回",
        [{"field": "is_representative", "old": "否", "new": "是"}],
    )
    steps = AuditEvent.objects.filter(
        object_type="assessment.evaluationround", object_id=str(confirmed.pk), action="status"
    ).order_by("id")
    assert [event.detail.get("confirmed", False) for event in steps] == [True, False]
    assert steps[1].detail == {"reopened": True, "restored": [Member.objects.get(name="戊").pk]}
    # Open again: scores can change and the round be confirmed anew.
    score(confirmed, district_user, "戊", 99)
    talk_with_the_flagged(confirmed, district_user)
    removed = services.round_confirm(actor=district_user, evaluation_round=confirmed)
    assert [evaluation.member.name for evaluation in removed] == ["丁"]


def test_reopening_leaves_alone_who_has_left_the_area_since(areas, confirmed, district_user):
    gone = Member.objects.get(name="戊")
    transfer_request(
        actor=district_user, member=gone, to_community=areas["140106002001"], reason="搬家"
    )
    restored, kept_out = services.round_reopen_preview(confirmed)
    assert restored == [] and [evaluation.member.name for evaluation in kept_out] == ["戊"]
    services.round_reopen(actor=district_user, evaluation_round=confirmed)
    gone.refresh_from_db()
    assert not gone.is_representative


def test_reopening_is_refused_after_the_days_allowed(confirmed, district_user, settings):
    assert settings.EVALUATION_REOPEN_DAYS == 30
    EvaluationRound.objects.filter(pk=confirmed.pk).update(
        confirmed_at=timezone.now() - datetime.timedelta(days=31)
    )
    confirmed.refresh_from_db()
    assert not services.may_reopen(district_user, confirmed)
    with pytest.raises(ValidationError, match="超过 30 天，不能再重新打开"):
        services.round_reopen(actor=district_user, evaluation_round=confirmed)
    assert representatives() == {"甲", "乙", "丙", "丁"}
    settings.EVALUATION_REOPEN_DAYS = 40
    assert services.may_reopen(district_user, confirmed)


def test_only_the_district_reopens(
    confirmed, street_user, other_street_user, other_district_user, admin_user
):
    for actor in (street_user, other_street_user, other_district_user):
        with pytest.raises(PermissionDenied):
            services.round_reopen(actor=actor, evaluation_round=confirmed)
    group = Group.objects.get(name="区委统战部")
    group.permissions.remove(Permission.objects.get(codename="confirm_evaluationround"))
    with pytest.raises(PermissionDenied):
        services.round_reopen(actor=User.objects.get(username="erin"), evaluation_round=confirmed)
    assert representatives() == {"甲", "乙", "丙", "丁"}
    services.round_reopen(actor=admin_user, evaluation_round=confirmed)  # of every area
    assert representatives() == set(NAMES)


def test_an_open_round_cannot_be_reopened(evaluation_round, district_user):
    with pytest.raises(ValidationError, match="只有已确认的"):
        services.round_reopen(actor=district_user, evaluation_round=evaluation_round)


# -- The pages --------------------------------------------------------------------------------


def test_the_round_page_lists_what_is_missing_instead_of_the_confirm_button(
    client, evaluation_round, district_user
):
    score(evaluation_round, district_user, "甲", 95)
    client.force_login(district_user)
    page = client.get(reverse("assessment:round", args=[evaluation_round.pk])).content.decode()
    assert 'id="missing-scores"' in page and 'id="confirm-round"' not in page
    assert "4 名代表人士还缺少评分" in page and "上级评议、自我评价、社会评价" in page
    confirm = reverse("assessment:round_confirm", args=[evaluation_round.pk])
    page = client.get(confirm).content.decode()
    assert 'id="missing-scores"' in page and 'id="confirm-outcome"' not in page
    response = client.post(confirm, follow=True)
    assert response.redirect_chain[-1][0] == confirm
    assert "4 名代表人士还缺少评分" in response.content.decode()
    assert representatives() == set(NAMES)


def test_the_confirmation_page_lists_who_is_flagged_and_who_loses_the_flag(
    client, evaluation_round, district_user
):
    score_everyone(evaluation_round, district_user)
    veto = EvaluationItem.objects.get(category__template=evaluation_round.template, name="违法违纪")
    services.veto_mark(
        actor=district_user,
        evaluation=evaluation_round.evaluations.get(member__name="乙"),
        item=veto,
        note="被行政拘留",
    )
    Member.objects.filter(name="戊").update(is_representative=False)  # taken off by hand
    client.force_login(district_user)
    page = client.get(reverse("assessment:round", args=[evaluation_round.pk])).content.decode()
    assert 'id="confirm-round"' in page and 'id="missing-scores"' not in page
    confirm = reverse("assessment:round_confirm", args=[evaluation_round.pk])
    response = client.get(confirm)
    html = response.content.decode()
    flagged = html[html.index('id="flagged"') : html.index("decision")]
    assert "乙" in flagged and "一票否决：违法违纪" in flagged
    assert "戊" in flagged and "末位淘汰（第 5 名，共 5 人）" in flagged
    assert "甲" not in flagged and "丙" not in flagged
    assert 'id="count-loses">1<' in html  # 戊 is no representative any more
    assert "移出 1 人的代表人士身份" in html and "30 天内" in html
    talk_with_the_flagged(evaluation_round, district_user)
    response = client.post(confirm, {"loses": [Member.objects.get(name="乙").pk]})
    assert response.url == reverse("assessment:round", args=[evaluation_round.pk])
    assert representatives() == {"甲", "丙", "丁"}
    page = client.get(response.url).content.decode()
    assert "评价结果已确认：1 人移出代表人士" in page and 'id="reopen-round"' in page


def test_the_reopen_page_lists_who_gets_the_flag_back(client, confirmed, district_user):
    client.force_login(district_user)
    reopen = reverse("assessment:round_reopen", args=[confirmed.pk])
    html = client.get(reopen).content.decode()
    assert "戊" in html[html.index('id="restored"') :] and 'id="reopen-outcome"' in html
    response = client.post(reopen, follow=True)
    assert "本轮评价已重新打开：1 人恢复为代表人士" in response.content.decode()
    assert representatives() == set(NAMES)
    EvaluationRound.objects.filter(pk=confirmed.pk).update(
        state="confirmed", confirmed_at=timezone.now() - datetime.timedelta(days=31)
    )
    page = client.get(reverse("assessment:round", args=[confirmed.pk])).content.decode()
    assert 'id="reopen-round"' not in page
    html = client.get(reopen).content.decode()
    assert "不能再重新打开" in html and 'id="reopen-outcome"' not in html


@pytest.mark.parametrize("name", ["assessment:round_confirm", "assessment:round_reopen"])
def test_scope_of_the_confirmation_and_reopen_pages(
    client, confirmed, name, community_user, street_user, other_street_user, other_district_user
):
    url = reverse(name, args=[confirmed.pk])
    for user, status in (
        (other_street_user, 404),
        (other_district_user, 404),
        (community_user, 403),
        (street_user, 403),  # sees the round, does not decide it
    ):
        client.force_login(user)
        assert client.get(url).status_code == status, user
        assert client.post(url).status_code == status, user
    assert representatives() == {"甲", "乙", "丙", "丁"}


def test_a_long_list_of_missing_scores_is_folded_and_a_short_one_shown():
    from types import SimpleNamespace

    from django.template.loader import render_to_string

    def entry(pk):
        member = SimpleNamespace(name=f"代表{pk}", community=SimpleNamespace(name="桥东一社区"))
        # `name` as the round's views set it (`_names_seen`): the name the user may read.
        row = SimpleNamespace(evaluation=SimpleNamespace(pk=pk, member=member), name=member.name)
        return SimpleNamespace(row=row, labels=["自我评价"])

    def page(count):
        missing = [entry(pk) for pk in range(1, count + 1)]
        return render_to_string(
            "assessment/round_missing.html", {"missing": missing, "round": SimpleNamespace(pk=1)}
        )

    assert "<details open>" in page(10)
    assert "<details>" in page(253) and "代表253" in page(253)


def test_the_reopen_page_names_one_who_left_the_area_masked(
    client, confirmed, district_user, areas
):
    # 戊, removed by the confirmation, has since moved to another district.
    Member.objects.filter(name="戊").update(name="戊某某", community=areas["140105001001"])
    client.force_login(district_user)
    html = client.get(reverse("assessment:round_reopen", args=[confirmed.pk])).content.decode()
    assert "戊某某" not in html and "坞城" not in html
    assert "戊**" in html[html.index('id="restored"') :]
