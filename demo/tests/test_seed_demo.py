"""seed_demo fills every app: areas, accounts, members, activities and an open assessment."""

import io

import pytest
from django.core.management import call_command

from activities.models import Activity, Need, Participation
from assessment.models import EvaluationRound, Period
from members.models import Member, Nomination
from resources.models import CommunityNeed, Match, Project, Resource
from tongzhan.models import Area, User

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def test_the_demo_district_is_seeded_once_and_make_run_keeps_it():
    output = seed(members=30)
    assert Area.objects.communities().filter(code__startswith="140106").exists()
    usernames = {"shequ", "shequ2", "jiedao", "quwei", "admin"}
    assert set(User.objects.filter(username__in=usernames).values_list("username", flat=True)) == (
        usernames
    )
    assert Member.objects.count() == 30
    assert Participation.objects.count() >= 150  # five per member, whole activities
    assert Activity.objects.exists()
    assert Period.objects.get().state == Period.State.OPEN
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
    assert "Tz-demo-2026" in output
    # The accounts' areas by the 12-digit codes people see on the pages.
    assert "柳巷街道 (140106001000)" in output and "迎泽区 (140106000000)" in output

    # What `make run` calls on every start: nothing more once members exist.
    output = seed(if_empty=True)
    assert "nothing seeded" in output
    assert Member.objects.count() == 30 and Period.objects.count() == 1
    assert Resource.objects.count() == 3 and Match.objects.count() == 1
    assert Project.objects.count() == 3
    # Seeding more members adds no second set of examples.
    seed(members=1, participations=0)
    assert Project.objects.count() == 3 and Resource.objects.count() == 3
