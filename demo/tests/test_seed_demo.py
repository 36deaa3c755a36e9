"""seed_demo fills every app: areas, accounts, members, activities and an open assessment."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from activities.models import Activity, Need, Participation
from assessment.models import EvaluationRound, Period, Result
from commendations.models import Campaign
from commendations.models import Nomination as CommendationNomination
from followup.models import ModelCommunity, Rectification
from members.models import Member, Nomination
from resources.models import CommunityNeed, Match, Project, Resource
from tongzhan.models import Area, User

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def test_the_demo_district_is_seeded_once_and_make_run_keeps_it(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    output = seed(members=30)
    assert Area.objects.communities().filter(code__startswith="140106").exists()
    usernames = {"shequ", "shequ2", "jiedao", "quwei", "admin"}
    assert set(User.objects.filter(username__in=usernames).values_list("username", flat=True)) == (
        usernames
    )
    assert Member.objects.count() == 30
    assert Participation.objects.count() >= 150  # five per member, whole activities
    assert Activity.objects.exists()
    year = timezone.localdate().year
    assert Period.objects.get(starts_on__year=year).state == Period.State.OPEN
    # Resources offered and needed, and a member's legal need met through the lawyer.
    assert Resource.objects.count() == 3 and CommunityNeed.objects.count() == 1
    match = Match.objects.get()
    assert match.state == Match.State.FULFILLED and match.resource.title == "律师义务法律咨询"
    assert Need.objects.get(pk=match.need_id).status == Need.Status.RESOLVED
    # Projects of investment and talent (引资引智) at different stages, each step recorded.
    stages = dict(Project.objects.values_list("name", "stage"))
    assert sorted(stages.values()) == ["landed", "negotiating", "signed"]
    assert "老字号面食加工厂扩建" in stages
    landed = Project.objects.get(stage="landed")
    assert list(landed.steps.values_list("stage", flat=True)) == [
        "intent", "negotiating", "signed", "landed"
    ]  # fmt: skip
    # 凡进必评: a nominee awaiting a round, and an admission round over another.
    assert Nomination.objects.pending().count() == 2
    admission = EvaluationRound.objects.get(template__kind="admission")
    assert admission.evaluations.count() == 1 and admission.cut_share == 0
    # Last year's assessment, published: 桥东一社区 不合格, one 示范社区.
    past = Period.objects.get(starts_on__year=year - 1)
    assert past.state == Period.State.FINAL and past.published
    failing = Result.objects.get(period=past, community__code="140106001001")
    assert failing.grade == Result.Grade.FAIL and failing.outcome == Result.Outcome.RECTIFY
    model = Result.objects.get(period=past, outcome=Result.Outcome.MODEL)
    assert model.grade == Result.Grade.EXCELLENT
    # Its rectification reported with a PDF, passed on by the street, awaiting the district.
    rectifications = Rectification.objects.filter(result__period=past)
    assert rectifications.count() == Result.objects.filter(period=past, grade="fail").count()
    reported = rectifications.get(community__code="140106001001")
    assert reported.state == Rectification.State.PASSED and reported.report
    evidence = reported.files.get()
    assert evidence.name == "整改情况说明.pdf"
    with evidence.file.open("rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert list(reported.events.values_list("action", flat=True)) == ["notify", "report", "pass"]
    rewarded = ModelCommunity.objects.get()
    assert rewarded.result == model and rewarded.reward == 5000
    assert rewarded.activity.area == model.community
    # 最美居民: last year's published, a member and a resident commended; this year's open
    # with 桥东一社区's nomination awaiting the street.
    last, this = Campaign.objects.order_by("year")
    assert (last.year, last.state, this.year, this.state) == (
        year - 1, Campaign.State.PUBLISHED, year, Campaign.State.NOMINATING
    )  # fmt: skip
    assert last.deadline.year == year - 1 and this.deadline > timezone.localdate()
    commended = last.nominations.filter(state=CommendationNomination.State.COMMENDED)
    assert commended.filter(member__isnull=True, resident_name="郝桂兰").exists()
    assert {n.community.code for n in last.nominations.all()} >= {"140106001001"}
    waiting = this.nominations.get()
    assert waiting.community.code == "140106001001"
    assert waiting.state == CommendationNomination.State.SUBMITTED
    assert "Tz-demo-2026" in output
    # The accounts' areas by the 12-digit codes people see on the pages.
    assert "柳巷街道 (140106001000)" in output and "迎泽区 (140106000000)" in output

    # What `make run` calls on every start: nothing more once members exist.
    output = seed(if_empty=True)
    assert "nothing seeded" in output
    assert Member.objects.count() == 30 and Period.objects.count() == 2
    assert Resource.objects.count() == 3 and Match.objects.count() == 1
    assert Project.objects.count() == 3
    # Seeding more members adds no second set of examples.
    counts = [
        model.objects.count()
        for model in (Campaign, CommendationNomination, Rectification, ModelCommunity, Result)
    ]
    seed(members=1, participations=0)
    assert Project.objects.count() == 3 and Resource.objects.count() == 3
    assert Period.objects.count() == 2
    assert [
        model.objects.count()
        for model in (Campaign, CommendationNomination, Rectification, ModelCommunity, Result)
    ] == counts
